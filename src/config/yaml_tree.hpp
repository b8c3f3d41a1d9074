// A YAML document read whole into a compact, read-only tree, for the configuration loader.
//
// libyaml's event parser underneath: yaml-cpp's YAML::Load took 1.5 s and about 5 KB a route
// for 100,000 routes; libyaml parses the same file in 0.2 s, and this tree costs 16 bytes a node
// (bench/README.md, "Configuration size").
// Every node is a few integers in one array, every scalar's text sits in one buffer, and a node
// handle is a pointer and an index, so copying handles costs nothing.
//
// The YAML it gives is what yaml-cpp's YAML::Load gave the loader: a plain scalar that is empty,
// "~", "null", "Null" or "NULL" is null; tags are ignored; an alias is the node its anchor names
// (shared, not copied, so an alias bomb costs nothing). Differences, each reported as an error
// rather than read silently: a second document in the stream, and an alias to an unknown anchor
// or to a collection that contains it.
//
// The method names are those of yaml-cpp's YAML::Node, which this replaces, so that the loader
// reads as it did.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace smppd::config::yaml {

// Zero-based, as yaml-cpp's; line -1 when unknown.
struct Mark {
  int line = -1;
  int column = -1;
  bool is_null() const { return line < 0; }
};

class Document;

// A node of a Document, or an undefined node (a missing key). Valid while its Document lives.
class Node {
 public:
  Node() = default;  // undefined

  bool IsDefined() const { return doc_ != nullptr; }
  bool IsNull() const;
  bool IsScalar() const;
  bool IsSequence() const;
  bool IsMap() const;
  // The text of a scalar; empty for anything else.
  std::string_view Scalar() const;
  yaml::Mark Mark() const;
  // Items of a sequence, entries of a mapping; 0 for anything else.
  std::size_t size() const;

  // The i-th item of a sequence (i < size()).
  Node item(std::size_t i) const;
  // The i-th entry of a mapping (i < size()), in the order written.
  Node key(std::size_t i) const;
  Node value(std::size_t i) const;
  // The value of the first entry whose key is the scalar `name`; undefined when there is none.
  Node find(std::string_view name) const;

  // `for (Node item : node.items())`, over a sequence.
  struct Items {
    const Node* node;
    struct iterator {
      const Node* node;
      std::size_t i;
      Node operator*() const { return node->item(i); }
      iterator& operator++() {
        ++i;
        return *this;
      }
      bool operator!=(const iterator& o) const { return i != o.i; }
    };
    iterator begin() const { return {node, 0}; }
    iterator end() const { return {node, node->size()}; }
  };
  Items items() const { return {this}; }

 private:
  friend class Document;
  Node(const Document* doc, uint32_t index) : doc_(doc), index_(index) {}

  const Document* doc_ = nullptr;
  uint32_t index_ = 0;
};

struct ParseError {
  std::string message;  // libyaml's problem, with its context: "mapping values are not allowed"
  yaml::Mark mark;
};

class Document {
 public:
  // Parses `text` (UTF-8, -16 or -32, as libyaml reads it). On failure, error() says why and
  // root() is undefined.
  static std::unique_ptr<Document> parse(std::string_view text);

  Document(const Document&) = delete;
  Document& operator=(const Document&) = delete;

  // Undefined when the stream holds no document.
  Node root() const;
  const ParseError* error() const { return error_.message.empty() ? nullptr : &error_; }

  // What the tree holds, for tests and benchmarks: nodes and bytes allocated.
  std::size_t node_count() const { return nodes_.size(); }
  std::size_t bytes() const;

 private:
  friend class Node;
  friend class Builder;
  Document() = default;

  enum class Kind : uint8_t { null, scalar, sequence, map };
  // 16 bytes. Scalar: [first, first+count) of text_. Sequence: `count` items from kids_[first].
  // Map: `count` entries, key then value, from kids_[first].
  struct Entry {
    uint32_t line;
    uint32_t column : 30;
    uint32_t kind : 2;
    uint32_t first;
    uint32_t count;
  };

  const Entry& at(uint32_t index) const { return nodes_[index]; }

  std::vector<Entry> nodes_;
  std::vector<uint32_t> kids_;
  std::string text_;
  bool has_root_ = false;
  uint32_t root_ = 0;
  ParseError error_;
};

}  // namespace smppd::config::yaml
