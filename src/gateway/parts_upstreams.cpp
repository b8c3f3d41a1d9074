#include "gateway/parts_upstreams.hpp"

#include <algorithm>
#include <vector>

namespace smppd::gateway {

std::optional<uint32_t> PartsUpstreams::find(uint64_t key, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  if (it->second.until <= now) {
    entries_.erase(it);
    return std::nullopt;
  }
  it->second.until = now + ttl_;
  return it->second.upstream;
}

void PartsUpstreams::remember(uint64_t key, uint32_t upstream, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (entries_.size() >= max_entries_) prune(now);
  entries_[key] = Entry{upstream, now + ttl_};
}

std::size_t PartsUpstreams::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

void PartsUpstreams::prune(Clock::time_point now) {
  std::erase_if(entries_, [now](const auto& e) { return e.second.until <= now; });
  if (entries_.size() < max_entries_) return;
  // Still full of live entries: the half that expires first goes.
  std::vector<Clock::time_point> untils;
  untils.reserve(entries_.size());
  for (const auto& [key, e] : entries_) untils.push_back(e.until);
  const auto middle = untils.begin() + static_cast<std::ptrdiff_t>(untils.size() / 2);
  std::nth_element(untils.begin(), middle, untils.end());
  const Clock::time_point cut = *middle;
  std::erase_if(entries_, [cut](const auto& e) { return e.second.until <= cut; });
}

}  // namespace smppd::gateway
