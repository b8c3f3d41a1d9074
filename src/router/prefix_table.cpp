#include "router/prefix_table.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

namespace smppd::router {

uint32_t PrefixTable::Trie::child(uint32_t node, unsigned char c) const {
  if (c >= '0' && c <= '9') return nodes[node].digits[c - '0'];
  if (edges.empty()) return kNone;
  const Edge key{node, c, 0};
  auto it = std::lower_bound(edges.begin(), edges.end(), key);
  return it != edges.end() && it->parent == node && it->c == c ? it->child : kNone;
}

// A trie with a map per node while the patterns go in, laid out flat at the end.
class PrefixTable::Builder {
 public:
  void add(const std::string& text, bool exact, uint32_t stored) {
    std::size_t node = 0;
    for (char c : text) {
      const auto key = static_cast<unsigned char>(c);
      auto found = nodes_[node].children.find(key);
      if (found != nodes_[node].children.end()) {
        node = found->second;
        continue;
      }
      const std::size_t created = nodes_.size();
      nodes_[node].children.emplace(key, created);
      nodes_.emplace_back();
      node = created;
    }
    (exact ? nodes_[node].exacts : nodes_[node].prefixes).push_back(stored);
  }

  Trie build() const {
    // Breadth-first numbering: the short prefixes every walk passes through sit together.
    std::vector<std::size_t> order{0};
    std::vector<uint32_t> number(nodes_.size(), 0);
    for (std::size_t i = 0; i < order.size(); ++i) {
      for (const auto& [c, child] : nodes_[order[i]].children) {
        number[child] = static_cast<uint32_t>(order.size());
        order.push_back(child);
      }
    }
    Trie t;
    t.nodes.assign(order.size(), Node{});
    for (std::size_t i = 0; i < order.size(); ++i) {
      const BuildNode& b = nodes_[order[i]];
      Node& n = t.nodes[i];
      n.first = static_cast<uint32_t>(t.entries.size());
      n.prefixes = static_cast<uint32_t>(b.prefixes.size());
      n.exacts = static_cast<uint32_t>(b.exacts.size());
      t.entries.insert(t.entries.end(), b.prefixes.begin(), b.prefixes.end());
      t.entries.insert(t.entries.end(), b.exacts.begin(), b.exacts.end());
      for (const auto& [c, child] : b.children) {
        if (c >= '0' && c <= '9')
          n.digits[c - '0'] = number[child];
        else
          t.edges.push_back({static_cast<uint32_t>(i), c, number[child]});
      }
    }
    std::sort(t.edges.begin(), t.edges.end());
    return t;
  }

 private:
  struct BuildNode {
    std::map<unsigned char, std::size_t> children;
    std::vector<uint32_t> prefixes;
    std::vector<uint32_t> exacts;
  };
  std::vector<BuildNode> nodes_ = std::vector<BuildNode>(1);
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
