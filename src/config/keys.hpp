// Every key the loader accepts, declared once with what becomes of it: read by the daemon, or
// accepted and ignored because its feature is not built yet. The loader (loader.cpp) looks each
// key it takes up here: a key written in the file whose entry says `not_built` gets a warning
// with its file:line (`smppd validate` prints it, the daemon logs it at start-up), and a key it
// takes that has no entry is found by tests/config/keys_test.cpp, which also checks that the
// code outside src/config reads every key said to be `used`.
#pragma once

#include <span>
#include <string_view>
#include <vector>

namespace smppd::config {

enum class KeyUse : unsigned char {
  used,       // read by the daemon outside src/config
  section,    // a mapping whose keys have entries of their own
  not_built,  // accepted and ignored; everything under it too (one warning, at this key)
};

struct KeySpec {
  // Dotted, "[]" after a list of mappings: "upstreams[].timeouts.response".
  std::string_view path;
  KeyUse use;
  // used: the module folder under src/ that reads it and a text found there where it does
  // ("upstream", "window.timeout"; the test greps for it). not_built: why, for the warning
  // (may be empty). section: empty.
  std::string_view module;
  std::string_view detail;
};

std::span<const KeySpec> key_specs();

// The specs as a tree of path segments, built once, for the loader's lookups.
struct KeyNode {
  std::string_view name;
  const KeySpec* spec = nullptr;  // null for the root
  std::vector<KeyNode> children;
  const KeyNode* child(std::string_view key) const;
};

const KeyNode& key_tree();

}  // namespace smppd::config
