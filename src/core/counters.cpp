#include "core/counters.hpp"

#include <atomic>

namespace smppd {

namespace {
std::atomic<std::size_t> next_thread_index{0};
std::size_t thread_index() {
  thread_local const std::size_t index = next_thread_index.fetch_add(1);
  return index;
}
}  // namespace

void Counters::append_key(std::string& k, std::string_view name,
                          std::initializer_list<Label> labels) {
  k.append(name);
  if (labels.size() == 0) return;
  k += '{';
  bool first = true;
  for (const auto& [label, value] : labels) {
    if (!first) k += ',';
    first = false;
    k += label;
    k += "=\"";
    for (char c : value) {
      if (c == '"' || c == '\\') k += '\\';
      k += c;
    }
    k += '"';
  }
  k += '}';
}

std::string Counters::key(std::string_view name, std::initializer_list<Label> labels) {
  std::string k;
  append_key(k, name, labels);
  return k;
}

void Counters::add(std::string_view name, std::initializer_list<Label> labels, uint64_t n) {
  thread_local std::string k;
  k.clear();
  append_key(k, name, labels);
  Shard& shard = shards_[thread_index() % kShards];
  std::lock_guard lock(shard.mutex);
  auto it = shard.values.find(k);
  if (it != shard.values.end()) {
    it->second += n;
  } else {
    shard.values.emplace(k, n);
  }
}

uint64_t Counters::get(std::string_view name, std::initializer_list<Label> labels) const {
  const std::string k = key(name, labels);
  uint64_t total = 0;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    auto it = shard.values.find(k);
    if (it != shard.values.end()) total += it->second;
  }
  return total;
}

std::vector<std::pair<std::string, uint64_t>> Counters::snapshot() const {
  std::map<std::string, uint64_t> merged;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    for (const auto& [k, v] : shard.values) merged[k] += v;
  }
  return {merged.begin(), merged.end()};
}

}  // namespace smppd
