// Route indices by destination pattern, so that a decision looks only at the routes whose
// destination_addr can match instead of scanning them all.
//
// Two tries over the address characters (a ten-way array for the digits, a sorted side table
// for anything else): one for patterns written without '+', walked for every address, and one
// for patterns written with '+', walked for international addresses only (pattern.hpp). A node
// holds the entries of the prefix patterns ending there and of the exact patterns ending there;
// "*" patterns are kept apart. Built once, then read-only: nodes in breadth-first order and
// every node's entries in one array, so that a walk touches few cache lines. Walking an address
// visits each list of entries that can hold a match: at most two walks of the address's length,
// no allocation.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "config/values.hpp"
#include "router/pattern.hpp"

namespace smppd::router {

class PrefixTable {
 public:
  struct Entry {
    config::AddressPattern pattern;
    uint32_t index = 0;          // of the route; below 2^31
    bool unconditional = false;  // the route has no condition beside this pattern
  };
  // An entry as stored: the index shifted left by one, the low bit set when unconditional.
  // Lists are ascending by index.
  static uint32_t index_of(uint32_t stored) { return stored >> 1; }
  static bool is_unconditional(uint32_t stored) { return (stored & 1) != 0; }

  PrefixTable() = default;
  // `entries` ascending by index.
  explicit PrefixTable(std::span<const Entry> entries);

  // Calls visit(std::span<const uint32_t>) with every non-empty list of stored entries whose
  // pattern matches `address`; each list is ascending, the lists come in no particular order.
  template <class Visit>
  void candidates(Address address, Visit&& visit) const {
    if (!any_.empty()) visit(std::span<const uint32_t>(any_));
    walk(tries_[0], address.digits, visit);
    if (address.international) walk(tries_[1], address.digits, visit);
  }

  std::size_t node_count() const { return tries_[0].nodes.size() + tries_[1].nodes.size(); }

 private:
  static constexpr uint32_t kNone = 0;  // node 0 is the root, never a child

  // 20 bytes (a child index per digit took 52: with 100,000 routes of their own prefixes the
  // table was 19 MB, now 7). A node's children are numbered consecutively, digits first in
  // order, so that the child through digit d is first_digit_child plus the number of digit
  // children below d.
  struct Node {
    uint32_t first_digit_child = 0;  // meaningful when digit_mask is not 0
    uint16_t digit_mask = 0;         // bit d: a child through '0' + d
    uint32_t first = 0;              // into Trie::entries: `prefixes` then `exacts`
    uint32_t prefixes = 0;           // patterns "<path>*"
    uint32_t exacts = 0;             // patterns "<path>"
  };
  struct Edge {  // a child through a character other than a digit
    uint32_t parent;
    unsigned char c;
    uint32_t child;
    bool operator<(const Edge& o) const { return parent != o.parent ? parent < o.parent : c < o.c; }
  };
  struct Trie {
    std::vector<Node> nodes = std::vector<Node>(1);
    std::vector<Edge> edges;  // sorted by (parent, c)
    std::vector<uint32_t> entries;

    uint32_t child(uint32_t node, unsigned char c) const;
  };
  class Builder;

  template <class Visit>
  static void walk(const Trie& trie, std::string_view text, Visit& visit) {
    const uint32_t* entries = trie.entries.data();
    uint32_t node = 0;
    // The root's prefixes are "+*" (international trie only).
    if (trie.nodes[0].prefixes != 0)
      visit(std::span<const uint32_t>(entries + trie.nodes[0].first, trie.nodes[0].prefixes));
    for (char c : text) {
      node = trie.child(node, static_cast<unsigned char>(c));
      if (node == kNone) return;
      const Node& n = trie.nodes[node];
      if (n.prefixes != 0) visit(std::span<const uint32_t>(entries + n.first, n.prefixes));
    }
    const Node& n = trie.nodes[node];
    if (n.exacts != 0) visit(std::span<const uint32_t>(entries + n.first + n.prefixes, n.exacts));
  }

  std::vector<uint32_t> any_;
  std::array<Trie, 2> tries_;  // [0]: without '+', [1]: with '+'
};

}  // namespace smppd::router
