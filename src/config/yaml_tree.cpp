#include "config/yaml_tree.hpp"

#include <yaml.h>

#include <algorithm>
#include <limits>
#include <unordered_map>

namespace smppd::config::yaml {

namespace {

constexpr uint32_t kOpen = std::numeric_limits<uint32_t>::max();  // count of an open collection

bool is_null_text(std::string_view t) {
  return t.empty() || t == "~" || t == "null" || t == "Null" || t == "NULL";
}

yaml::Mark mark_of(const yaml_mark_t& m) {
  return {static_cast<int>(std::min<std::size_t>(m.line, INT32_MAX)),
          static_cast<int>(std::min<std::size_t>(m.column, INT32_MAX))};
}

// libyaml's reader errors (bad UTF-8, control characters) carry a byte offset, not a mark.
yaml::Mark mark_at_offset(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  const std::string_view before = text.substr(0, offset);
  const auto line = std::count(before.begin(), before.end(), '\n');
  const auto last_newline = before.rfind('\n');
  const std::size_t column =
      last_newline == std::string_view::npos ? offset : offset - last_newline - 1;
  return {static_cast<int>(std::min<std::ptrdiff_t>(line, INT32_MAX)),
          static_cast<int>(std::min<std::size_t>(column, INT32_MAX))};
}

}  // namespace

// Turns libyaml's events into a Document's arrays: a collection's children are gathered on
// `pending_` while it is open and moved into `kids_` when it ends.
class Builder {
 public:
  explicit Builder(Document& doc) : doc_(doc) {}

  void run(std::string_view text) {
    yaml_parser_t parser;
    if (yaml_parser_initialize(&parser) == 0) {
      fail("out of memory", {});
      return;
    }
    yaml_parser_set_input_string(&parser, reinterpret_cast<const unsigned char*>(text.data()),
                                 text.size());
    int documents = 0;
    bool done = false;
    while (!done && doc_.error_.message.empty()) {
      yaml_event_t event;
      if (yaml_parser_parse(&parser, &event) == 0) {
        parser_failure(parser, text);
        break;
      }
      switch (event.type) {
        case YAML_STREAM_END_EVENT:
          done = true;
          break;
        case YAML_DOCUMENT_START_EVENT:
          if (++documents > 1)
            fail("a second YAML document in the file (a configuration is one document)",
                 mark_of(event.start_mark));
          break;
        case YAML_SCALAR_EVENT:
          scalar(event);
          break;
        case YAML_ALIAS_EVENT:
          alias(event);
          break;
        case YAML_SEQUENCE_START_EVENT:
          open(Document::Kind::sequence, event.start_mark, event.data.sequence_start.anchor);
          break;
        case YAML_MAPPING_START_EVENT:
          open(Document::Kind::map, event.start_mark, event.data.mapping_start.anchor);
          break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
          close();
          break;
        default:
          break;
      }
      yaml_event_delete(&event);
    }
    yaml_parser_delete(&parser);
    if (!doc_.error_.message.empty()) doc_.has_root_ = false;
  }

 private:
  struct Open {
    uint32_t node;
    std::size_t first_pending;
  };

  void fail(std::string message, yaml::Mark mark) {
    if (doc_.error_.message.empty()) doc_.error_ = {std::move(message), mark};
  }

  void parser_failure(const yaml_parser_t& p, std::string_view text) {
    if (p.error == YAML_MEMORY_ERROR) return fail("out of memory", {});
    std::string message = p.problem != nullptr ? p.problem : "cannot parse";
    if (p.error == YAML_READER_ERROR) return fail(message, mark_at_offset(text, p.problem_offset));
    if (p.context != nullptr) {
      message += std::string(" (") + p.context;
      if (p.context_mark.line != p.problem_mark.line)
        message += " that starts at line " + std::to_string(p.context_mark.line + 1);
      message += ")";
    }
    fail(message, mark_of(p.problem_mark));
  }

  uint32_t add(Document::Kind kind, const yaml_mark_t& mark, uint32_t first, uint32_t count) {
    if (doc_.nodes_.size() >= kOpen - 1) {
      fail("too many YAML nodes", mark_of(mark));
      return 0;
    }
    Document::Entry e{};
    e.line = static_cast<uint32_t>(std::min<std::size_t>(mark.line, INT32_MAX));
    e.column = static_cast<uint32_t>(std::min<std::size_t>(mark.column, (1u << 30) - 1)) &
               ((1u << 30) - 1);
    e.kind = static_cast<uint32_t>(kind) & 3u;
    e.first = first;
    e.count = count;
    doc_.nodes_.push_back(e);
    return static_cast<uint32_t>(doc_.nodes_.size() - 1);
  }

  void attach(uint32_t node) {
    if (open_.empty()) {
      if (!doc_.has_root_) {
        doc_.has_root_ = true;
        doc_.root_ = node;
      }
    } else {
      pending_.push_back(node);
    }
  }

  void name(const yaml_char_t* anchor, uint32_t node) {
    if (anchor != nullptr) anchors_[reinterpret_cast<const char*>(anchor)] = node;
  }

  void scalar(const yaml_event_t& event) {
    const auto& s = event.data.scalar;
    const std::string_view value(reinterpret_cast<const char*>(s.value), s.length);
    uint32_t node = 0;
    if (s.style == YAML_PLAIN_SCALAR_STYLE && s.tag == nullptr && is_null_text(value)) {
      node = add(Document::Kind::null, event.start_mark, 0, 0);
    } else {
      if (doc_.text_.size() + value.size() >= kOpen) {
        fail("the scalars of the file are too large", mark_of(event.start_mark));
        return;
      }
      const auto first = static_cast<uint32_t>(doc_.text_.size());
      doc_.text_.append(value);
      node =
          add(Document::Kind::scalar, event.start_mark, first, static_cast<uint32_t>(value.size()));
    }
    name(s.anchor, node);
    attach(node);
  }

  void alias(const yaml_event_t& event) {
    const char* anchor = reinterpret_cast<const char*>(event.data.alias.anchor);
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) {
      fail("unknown anchor '*" + std::string(anchor) + "'", mark_of(event.start_mark));
      return;
    }
    if (doc_.nodes_[it->second].count == kOpen) {
      fail("alias '*" + std::string(anchor) + "' refers to a collection that contains it",
           mark_of(event.start_mark));
      return;
    }
    attach(it->second);
  }

  void open(Document::Kind kind, const yaml_mark_t& mark, const yaml_char_t* anchor) {
    const uint32_t node = add(kind, mark, 0, kOpen);
    name(anchor, node);
    attach(node);
    open_.push_back({node, pending_.size()});
  }

  void close() {
    if (open_.empty()) return;  // libyaml pairs starts and ends
    const Open o = open_.back();
    open_.pop_back();
    Document::Entry& e = doc_.nodes_[o.node];
    const std::size_t children = pending_.size() - o.first_pending;
    if (doc_.kids_.size() + children >= kOpen) {
      fail("too many YAML nodes", {});
      return;
    }
    e.first = static_cast<uint32_t>(doc_.kids_.size());
    e.count = static_cast<uint32_t>(
        e.kind == static_cast<uint32_t>(Document::Kind::map) ? children / 2 : children);
    doc_.kids_.insert(doc_.kids_.end(),
                      pending_.begin() + static_cast<std::ptrdiff_t>(o.first_pending),
                      pending_.end());
    pending_.resize(o.first_pending);
  }

  Document& doc_;
  std::vector<Open> open_;
  std::vector<uint32_t> pending_;
  std::unordered_map<std::string, uint32_t> anchors_;
};

std::unique_ptr<Document> Document::parse(std::string_view text) {
  std::unique_ptr<Document> doc(new Document());
  Builder(*doc).run(text);
  return doc;
}

Node Document::root() const {
  return has_root_ ? Node(this, root_) : Node();
}

std::size_t Document::bytes() const {
  return nodes_.capacity() * sizeof(Entry) + kids_.capacity() * sizeof(uint32_t) + text_.capacity();
}

bool Node::IsNull() const {
  return doc_ != nullptr && doc_->at(index_).kind == static_cast<uint32_t>(Document::Kind::null);
}
bool Node::IsScalar() const {
  return doc_ != nullptr && doc_->at(index_).kind == static_cast<uint32_t>(Document::Kind::scalar);
}
bool Node::IsSequence() const {
  return doc_ != nullptr &&
         doc_->at(index_).kind == static_cast<uint32_t>(Document::Kind::sequence);
}
bool Node::IsMap() const {
  return doc_ != nullptr && doc_->at(index_).kind == static_cast<uint32_t>(Document::Kind::map);
}

std::string_view Node::Scalar() const {
  if (!IsScalar()) return {};
  const Document::Entry& e = doc_->at(index_);
  return std::string_view(doc_->text_).substr(e.first, e.count);
}

yaml::Mark Node::Mark() const {
  if (doc_ == nullptr) return {};
  const Document::Entry& e = doc_->at(index_);
  return {static_cast<int>(e.line), static_cast<int>(e.column)};
}

std::size_t Node::size() const {
  return IsSequence() || IsMap() ? doc_->at(index_).count : 0;
}

Node Node::item(std::size_t i) const {
  return Node(doc_, doc_->kids_[doc_->at(index_).first + i]);
}
Node Node::key(std::size_t i) const {
  return Node(doc_, doc_->kids_[doc_->at(index_).first + 2 * i]);
}
Node Node::value(std::size_t i) const {
  return Node(doc_, doc_->kids_[doc_->at(index_).first + 2 * i + 1]);
}

Node Node::find(std::string_view name) const {
  if (!IsMap()) return {};
  for (std::size_t i = 0, n = size(); i < n; ++i) {
    const Node k = key(i);
    if (k.IsScalar() && k.Scalar() == name) return value(i);
  }
  return {};
}

}  // namespace smppd::config::yaml
