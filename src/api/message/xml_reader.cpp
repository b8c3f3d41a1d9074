#include "api/message/xml_reader.hpp"

#include <algorithm>

#include "api/message/decoding.hpp"
#include "core/utf8.hpp"

namespace smppd::api::xml {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool is_name_start(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || c >= 0x80;
}

bool is_name_char(unsigned char c) {
  return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

bool is_xml_char(uint32_t cp) {
  return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
         (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

// Every character is one XML allows: in UTF-8, each sequence valid and its code point an XML
// Char; in another (single-byte, ASCII-compatible) encoding, no control character but tab, line
// feed and carriage return.
bool characters_allowed(std::string_view s, bool utf8) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20) {
      if (c != '\t' && c != '\n' && c != '\r') return false;
      ++i;
      continue;
    }
    if (!utf8 || c < 0x80) {
      ++i;
      continue;
    }
    const std::size_t n = utf8::sequence_at(s, i);
    if (n == 0 || !is_xml_char(utf8::code_point_at(s, i, n))) return false;
    i += n;
  }
  return true;
}

bool starts_with_icase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

class Parser {
 public:
  Parser(std::string_view input, const Limits& limits) : in_(input), limits_(limits) {}

  std::optional<Document> run() {
    Document doc;
    bool bom = false;
    if (in_.starts_with("\xEF\xBB\xBF")) {
      pos_ = 3;
      bom = true;
    }
    if (starts("<?xml") && pos_ + 5 < in_.size() && (is_space(in_[pos_ + 5]))) {
      if (!declaration(doc)) return std::nullopt;
    }
    if (doc.encoding) {
      const std::string_view e = *doc.encoding;
      if (starts_with_icase(e, "UTF-16") || starts_with_icase(e, "UTF-32") ||
          starts_with_icase(e, "UCS-2") || starts_with_icase(e, "UCS-4") ||
          starts_with_icase(e, "UCS2") || starts_with_icase(e, "UCS4")) {
        return std::nullopt;
      }
    }
    const bool utf8 =
        bom || !doc.encoding || iequals(*doc.encoding, "UTF-8") || iequals(*doc.encoding, "UTF8");
    if (!characters_allowed(in_.substr(pos_), utf8)) return std::nullopt;
    if (!misc()) return std::nullopt;
    if (at_end() || in_[pos_] != '<') return std::nullopt;
    if (!content(doc)) return std::nullopt;
    if (!misc() || !at_end()) return std::nullopt;
    return doc;
  }

 private:
  bool at_end() const { return pos_ >= in_.size(); }
  bool starts(std::string_view s) const { return in_.substr(pos_).starts_with(s); }
  void skip_space() {
    while (!at_end() && is_space(in_[pos_])) ++pos_;
  }

  // Comments, processing instructions and white space, before or after the root element.
  bool misc() {
    for (;;) {
      skip_space();
      if (starts("<!--")) {
        if (!skip_comment()) return false;
      } else if (starts("<?")) {
        if (!skip_pi()) return false;
      } else {
        return true;  // a DOCTYPE ("<!") is refused by the caller as no element
      }
    }
  }

  bool name(std::string& out) {
    const std::size_t start = pos_;
    if (at_end() || !is_name_start(static_cast<unsigned char>(in_[pos_]))) return false;
    while (!at_end() && is_name_char(static_cast<unsigned char>(in_[pos_]))) ++pos_;
    out.assign(in_.substr(start, pos_ - start));
    return true;
  }

  // At "<?xml ": version, encoding and standalone, up to "?>".
  bool declaration(Document& doc) {
    pos_ += 5;
    for (;;) {
      skip_space();
      if (starts("?>")) {
        pos_ += 2;
        return true;
      }
      std::string key;
      if (!name(key)) return false;
      skip_space();
      if (at_end() || in_[pos_] != '=') return false;
      ++pos_;
      skip_space();
      if (at_end() || (in_[pos_] != '"' && in_[pos_] != '\'')) return false;
      const char quote = in_[pos_++];
      const std::size_t end = in_.find(quote, pos_);
      if (end == std::string_view::npos) return false;
      if (key == "encoding") doc.encoding = std::string(in_.substr(pos_, end - pos_));
      pos_ = end + 1;
    }
  }

  // At "<!--": up to "-->"; "--" inside a comment is not XML.
  bool skip_comment() {
    const std::size_t end = in_.find("--", pos_ + 4);
    if (end == std::string_view::npos || end + 2 >= in_.size() || in_[end + 2] != '>') {
      return false;
    }
    pos_ = end + 3;
    return true;
  }

  // At "<?": a processing instruction other than the XML declaration, up to "?>".
  bool skip_pi() {
    pos_ += 2;
    std::string target;
    if (!name(target) || iequals(target, "xml")) return false;
    const std::size_t end = in_.find("?>", pos_);
    if (end == std::string_view::npos) return false;
    pos_ = end + 2;
    return true;
  }

  // At '&': a predefined entity or a character reference, appended to `out`.
  bool reference(std::string& out) {
    const std::size_t semicolon = in_.find(';', pos_);
    if (semicolon == std::string_view::npos || semicolon - pos_ > 32) return false;
    const std::string_view ref = in_.substr(pos_ + 1, semicolon - pos_ - 1);
    pos_ = semicolon + 1;
    static constexpr std::pair<std::string_view, char> kPredefined[] = {
        {"lt", '<'}, {"gt", '>'}, {"amp", '&'}, {"apos", '\''}, {"quot", '"'}};
    for (const auto& [entity, c] : kPredefined) {
      if (ref == entity) {
        out += c;
        return true;
      }
    }
    if (ref.size() < 2 || ref[0] != '#') return false;  // no DTD: no other entity exists
    const bool hex = ref[1] == 'x';
    const std::string_view digits = ref.substr(hex ? 2 : 1);
    if (digits.empty()) return false;
    uint32_t cp = 0;
    for (char c : digits) {
      const int v = hex ? hex_value(c) : (c >= '0' && c <= '9' ? c - '0' : -1);
      if (v < 0) return false;
      cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(v);
      if (cp > 0x10FFFF) return false;
    }
    if (!is_xml_char(cp)) return false;
    utf8::append_code_point(out, cp);
    return true;
  }

  // One character of character data at pos_, line ends normalised ("\r\n" and "\r" are "\n").
  void character(std::string& out) {
    const char c = in_[pos_++];
    if (c != '\r') {
      out += c;
      return;
    }
    if (!at_end() && in_[pos_] == '\n') ++pos_;
    out += '\n';
  }

  bool attribute_value(std::string& out) {
    if (at_end() || (in_[pos_] != '"' && in_[pos_] != '\'')) return false;
    const char quote = in_[pos_++];
    for (;;) {
      if (at_end() || in_[pos_] == '<') return false;
      if (in_[pos_] == quote) {
        ++pos_;
        return true;
      }
      if (in_[pos_] == '&') {
        if (!reference(out)) return false;
        continue;
      }
      character(out);
      if (is_space(out.back())) out.back() = ' ';  // attribute-value normalisation
    }
  }

  std::size_t add(Document& doc, Node node) {
    doc.nodes.push_back(std::move(node));
    return doc.nodes.size() - 1;
  }

  // At '<' of a start tag: the element, made a child of `parent` (none for the root). Sets
  // `empty` for "<a/>".
  bool start_tag(Document& doc, std::optional<std::size_t> parent, bool parent_default_ns,
                 bool& empty, bool& default_ns) {
    if (doc.nodes.size() >= limits_.max_nodes) return false;
    ++pos_;
    Node node;
    if (!name(node.name)) return false;
    default_ns = parent_default_ns;
    for (;;) {
      const std::size_t before = pos_;
      skip_space();
      if (starts("/>")) {
        pos_ += 2;
        empty = true;
        break;
      }
      if (starts(">")) {
        ++pos_;
        empty = false;
        break;
      }
      if (pos_ == before) return false;  // attributes are separated by white space
      std::string key, value;
      if (!name(key)) return false;
      skip_space();
      if (at_end() || in_[pos_] != '=') return false;
      ++pos_;
      skip_space();
      if (!attribute_value(value)) return false;
      if (attribute(node, key)) return false;  // an attribute given twice
      if (key == "xmlns") default_ns = !value.empty();
      node.attributes.emplace_back(std::move(key), std::move(value));
    }
    node.namespaced = default_ns || node.name.find(':') != std::string::npos;
    const std::size_t index = add(doc, std::move(node));
    if (parent) doc.nodes[*parent].children.push_back(index);
    open_ = index;
    return true;
  }

  // At the root's '<': the root element and everything inside it.
  bool content(Document& doc) {
    struct Open {
      std::size_t node;
      bool default_ns;
    };
    std::vector<Open> stack;
    bool empty = false, default_ns = false;
    if (!start_tag(doc, std::nullopt, false, empty, default_ns)) return false;
    if (empty) return true;
    stack.push_back({open_, default_ns});
    std::string text;
    const auto flush = [&](Node::Kind kind) {
      if (text.empty() && kind == Node::Kind::text) return true;
      if (doc.nodes.size() >= limits_.max_nodes) return false;
      Node node;
      node.kind = kind;
      node.text = std::move(text);
      text.clear();
      const std::size_t index = add(doc, std::move(node));
      doc.nodes[stack.back().node].children.push_back(index);
      return true;
    };
    while (!stack.empty()) {
      if (at_end()) return false;
      const char c = in_[pos_];
      if (c == '&') {
        if (!reference(text)) return false;
        continue;
      }
      if (c != '<') {
        if (starts("]]>")) return false;
        character(text);
        continue;
      }
      if (!flush(Node::Kind::text)) return false;
      if (starts("</")) {
        pos_ += 2;
        std::string closing;
        if (!name(closing) || closing != doc.nodes[stack.back().node].name) return false;
        skip_space();
        if (at_end() || in_[pos_] != '>') return false;
        ++pos_;
        stack.pop_back();
      } else if (starts("<!--")) {
        if (!skip_comment()) return false;
      } else if (starts("<![CDATA[")) {
        const std::size_t end = in_.find("]]>", pos_ + 9);
        if (end == std::string_view::npos) return false;
        for (pos_ += 9; pos_ < end;) character(text);
        pos_ = end + 3;
        if (!flush(Node::Kind::cdata)) return false;
      } else if (starts("<?")) {
        if (!skip_pi()) return false;
      } else if (starts("<!")) {
        return false;
      } else {
        if (stack.size() >= limits_.max_depth) return false;
        if (!start_tag(doc, stack.back().node, stack.back().default_ns, empty, default_ns)) {
          return false;
        }
        if (!empty) stack.push_back({open_, default_ns});
      }
    }
    return true;
  }

  std::string_view in_;
  std::size_t pos_ = 0;
  const Limits& limits_;
  std::size_t open_ = 0;  // the element start_tag added last
};

void collect(const Document& doc, const Node& node, std::span<const std::string_view> rest,
             std::vector<const Node*>& out) {
  if (rest.empty()) {
    out.push_back(&node);
    return;
  }
  for (std::size_t child : node.children) {
    const Node& c = doc.nodes[child];
    if (c.kind == Node::Kind::element && !c.namespaced && c.name == rest.front()) {
      collect(doc, c, rest.subspan(1), out);
    }
  }
}

void append_text(const Document& doc, const Node& node, std::string& out) {
  for (std::size_t child : node.children) {
    const Node& c = doc.nodes[child];
    if (c.kind == Node::Kind::element) {
      append_text(doc, c, out);
    } else {
      out += c.text;
    }
  }
}

}  // namespace

std::optional<Document> parse(std::string_view input, const Limits& limits) {
  return Parser(input, limits).run();
}

std::vector<const Node*> select(const Document& doc, std::span<const std::string_view> path) {
  std::vector<const Node*> out;
  if (doc.nodes.empty() || path.empty()) return out;
  const Node& root = doc.nodes.front();
  if (root.namespaced || root.name != path.front()) return out;
  collect(doc, root, path.subspan(1), out);
  return out;
}

std::string string_value(const Document& doc, const Node& element) {
  std::string out;
  append_text(doc, element, out);
  return out;
}

const std::string* attribute(const Node& element, std::string_view name) {
  const auto it = std::find_if(element.attributes.begin(), element.attributes.end(),
                               [&](const auto& a) { return a.first == name; });
  return it == element.attributes.end() ? nullptr : &it->second;
}

}  // namespace smppd::api::xml
