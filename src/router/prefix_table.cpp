#include "router/prefix_table.hpp"

#include <algorithm>
#include <stdexcept>
#include <string_view>

namespace smppd::router {

uint32_t PrefixTable::Trie::child(uint32_t node, unsigned char c) const {
  if (c >= '0' && c <= '9') {
    const Node& n = nodes[node];
    const unsigned bit = 1u << (c - '0');
    if ((n.digit_mask & bit) == 0) return kNone;
    return n.first_digit_child + static_cast<uint32_t>(std::popcount(n.digit_mask & (bit - 1u)));
  }
  if (edges.empty()) return kNone;
  const Edge key{node, c, 0};
  auto it = std::lower_bound(edges.begin(), edges.end(), key);
  return it != edges.end() && it->parent == node && it->c == c ? it->child : kNone;
}

// The patterns, sorted, make the trie depth first with one node per new character (no map per
// node: with 100,000 routes of their own prefixes those took 70 MB while the table was built);
// the nodes are then numbered breadth first, level by level, children after their parent's
// earlier siblings' children, digits first.
class PrefixTable::Builder {
 public:
  void add(const std::string& text, bool exact, uint32_t stored) {
    patterns_.push_back({text, exact, stored});
  }

  Trie build() {
    // By text, prefixes before exacts, then by index, so each node's lists stay ascending.
    std::sort(patterns_.begin(), patterns_.end(), [](const Pattern& a, const Pattern& b) {
      if (a.text != b.text) return a.text < b.text;
      return a.exact != b.exact ? a.exact < b.exact : a.stored < b.stored;
    });
    struct DfsNode {
      uint32_t parent;
      uint32_t depth;
      unsigned char c;
      uint32_t first_pattern = 0;  // into patterns_
      uint32_t prefixes = 0;
      uint32_t exacts = 0;
    };
    std::vector<DfsNode> dfs{{0, 0, 0}};
    std::vector<uint32_t> path{0};  // the nodes of the previous pattern's text, root first
    std::string_view previous;
    for (std::size_t i = 0; i < patterns_.size(); ++i) {
      const std::string_view text = patterns_[i].text;
      std::size_t common = 0;
      while (common < text.size() && common < previous.size() && text[common] == previous[common])
        ++common;
      path.resize(common + 1);
      for (std::size_t k = common; k < text.size(); ++k) {
        dfs.push_back(
            {path.back(), static_cast<uint32_t>(k + 1), static_cast<unsigned char>(text[k])});
        path.push_back(static_cast<uint32_t>(dfs.size() - 1));
      }
      previous = text;
      DfsNode& n = dfs[path.back()];
      if (n.prefixes + n.exacts == 0) n.first_pattern = static_cast<uint32_t>(i);
      ++(patterns_[i].exact ? n.exacts : n.prefixes);
    }

    // Breadth-first numbers: by depth, then parent's number, then digits before other
    // characters, then character.
    std::vector<uint32_t> order(dfs.size());
    {
      std::vector<uint32_t> level_start;  // counting sort by depth
      uint32_t deepest = 0;
      for (const DfsNode& n : dfs) deepest = std::max(deepest, n.depth);
      level_start.assign(deepest + 2, 0);
      for (const DfsNode& n : dfs) ++level_start[n.depth + 1];
      for (std::size_t d = 1; d < level_start.size(); ++d) level_start[d] += level_start[d - 1];
      for (uint32_t v = 0; v < dfs.size(); ++v) order[level_start[dfs[v].depth]++] = v;
    }
    std::vector<uint32_t> number(dfs.size(), 0);
    auto is_digit = [](unsigned char c) { return c >= '0' && c <= '9'; };
    for (std::size_t level = 1, i = 1; i < order.size(); i = level) {
      while (level < order.size() && dfs[order[level]].depth == dfs[order[i]].depth) ++level;
      // Parents, one level up, are numbered by now.
      std::sort(order.begin() + static_cast<std::ptrdiff_t>(i),
                order.begin() + static_cast<std::ptrdiff_t>(level), [&](uint32_t a, uint32_t b) {
                  const DfsNode& x = dfs[a];
                  const DfsNode& y = dfs[b];
                  if (number[x.parent] != number[y.parent])
                    return number[x.parent] < number[y.parent];
                  if (is_digit(x.c) != is_digit(y.c)) return is_digit(x.c);
                  return x.c < y.c;
                });
      for (std::size_t k = i; k < level; ++k) number[order[k]] = static_cast<uint32_t>(k);
    }

    Trie t;
    t.nodes.assign(dfs.size(), Node{});
    t.entries.reserve(patterns_.size());
    for (std::size_t i = 0; i < order.size(); ++i) {
      const DfsNode& b = dfs[order[i]];
      Node& n = t.nodes[i];
      n.first = static_cast<uint32_t>(t.entries.size());
      n.prefixes = b.prefixes;
      n.exacts = b.exacts;
      for (uint32_t k = 0; k < b.prefixes + b.exacts; ++k)
        t.entries.push_back(patterns_[b.first_pattern + k].stored);
      if (i == 0) continue;
      const uint32_t parent = number[b.parent];
      if (is_digit(b.c)) {
        Node& p = t.nodes[parent];
        // Digit children come first among siblings, in order: the first seen is the first.
        if (p.digit_mask == 0) p.first_digit_child = static_cast<uint32_t>(i);
        p.digit_mask = static_cast<uint16_t>(p.digit_mask | (1u << (b.c - '0')));
      } else {
        t.edges.push_back({parent, b.c, static_cast<uint32_t>(i)});
      }
    }
    std::sort(t.edges.begin(), t.edges.end());
    return t;
  }

 private:
  struct Pattern {
    std::string_view text;  // the Entry's, which outlives the build
    bool exact;
    uint32_t stored;
  };
  std::vector<Pattern> patterns_;
};

PrefixTable::PrefixTable(std::span<const Entry> entries) {
  using Kind = config::AddressPattern::Kind;
  std::array<Builder, 2> builders;
  uint32_t previous = 0;
  for (const Entry& e : entries) {
    if (e.index >= (1u << 31)) throw std::invalid_argument("route index out of range");
    if (&e != entries.data() && e.index <= previous)
      throw std::invalid_argument("prefix table entries out of order");
    previous = e.index;
    const uint32_t stored = (e.index << 1) | (e.unconditional ? 1u : 0u);
    if (e.pattern.kind == Kind::any)
      any_.push_back(stored);
    else
      builders[e.pattern.international ? 1 : 0].add(e.pattern.text, e.pattern.kind == Kind::exact,
                                                    stored);
  }
  tries_[0] = builders[0].build();
  tries_[1] = builders[1].build();
}

}  // namespace smppd::router
