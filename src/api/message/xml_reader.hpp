// A small XML reader for the documents the HTTP faces accept (Kannel's XML POST), and the few
// XPath questions they ask of them, answered as libxml2 answers them.
//
// What it reads: an optional UTF-8 byte order mark and XML declaration (its encoding is kept),
// comments and processing instructions, one root element with attributes, character data,
// CDATA sections, the five predefined entities and character references. What it refuses
// (nothing, as a document libxml2 would not parse): a DOCTYPE (no DTD, so no entity of any
// other name and nothing an entity could expand into), malformed markup, mismatched tags, a
// character XML does not allow, invalid UTF-8 in a document declared (or defaulted to) UTF-8,
// a UTF-16 or UTF-32 document, and anything deeper or larger than its limits. A document
// declared in another ASCII-compatible encoding (ISO-8859-1...) is read as bytes: its text comes
// back in that encoding, for the caller to convert.
//
// Pure: no I/O, no exceptions; memory is bounded by the input and the node limit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace smppd::api::xml {

struct Node {
  enum class Kind : uint8_t { element, text, cdata };
  Kind kind = Kind::element;
  // Element: its name as written, and whether it is in a namespace (a prefix, or a default
  // namespace in scope): XPath's unprefixed names do not match such an element.
  std::string name;
  bool namespaced = false;
  std::vector<std::pair<std::string, std::string>> attributes;  // as written, values decoded
  std::vector<std::size_t> children;                            // indexes into Document::nodes
  // Text and CDATA: the characters, references decoded, line ends normalised to "\n". Text
  // between two pieces of markup (a comment, a CDATA section, an element) is one node.
  std::string text;
};

struct Document {
  std::vector<Node> nodes;              // nodes[0] is the root element
  std::optional<std::string> encoding;  // from <?xml ... encoding="..."?>, as written
};

struct Limits {
  std::size_t max_depth = 32;       // elements inside elements
  std::size_t max_nodes = 1 << 16;  // elements, text and CDATA nodes
};

std::optional<Document> parse(std::string_view input, const Limits& limits = {});

// The elements an absolute path of child steps names ({"message", "submit", "da"} for
// "/message/submit/da"), in document order.
std::vector<const Node*> select(const Document& doc, std::span<const std::string_view> path);

// XPath's string-value of an element: the text of every text and CDATA node inside it, in
// document order.
std::string string_value(const Document& doc, const Node& element);

// The value of an attribute of an element, if it has one.
const std::string* attribute(const Node& element, std::string_view name);

}  // namespace smppd::api::xml
