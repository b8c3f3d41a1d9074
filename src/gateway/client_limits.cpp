#include "gateway/client_limits.hpp"

#include <algorithm>

namespace smppd::gateway {

void ClientLimits::configure(const std::vector<config::ClientConfig>& clients) {
  std::lock_guard lock(mutex_);
  StringMap<Entry> next;
  for (const config::ClientConfig& c : clients) {
    auto it = by_id_.find(c.system_id);
    Entry e = it != by_id_.end() ? it->second : Entry{std::make_shared<ClientLimit>(), 0};
    e.limit->rate.set(c.rate_limit.messages_per_second, c.rate_limit.burst);
    e.limit->window->limit.store(c.rate_limit.window_size, std::memory_order_relaxed);
    e.messages_per_second = c.rate_limit.messages_per_second;
    next.insert_or_assign(c.system_id, std::move(e));
  }
  by_id_ = std::move(next);
}

std::shared_ptr<ClientLimit> ClientLimits::find(std::string_view system_id) const {
  std::lock_guard lock(mutex_);
  auto it = by_id_.find(system_id);
  return it == by_id_.end() ? nullptr : it->second.limit;
}

std::vector<ClientLimits::Seen> ClientLimits::seen() const {
  std::vector<Seen> out;
  {
    std::lock_guard lock(mutex_);
    out.reserve(by_id_.size());
    for (const auto& [id, e] : by_id_) {
      const session::SharedWindow& w = *e.limit->window;
      out.push_back(Seen{id, e.messages_per_second, w.limit.load(std::memory_order_relaxed),
                         w.in_flight.load(std::memory_order_relaxed), e.limit->rate.refused(),
                         w.refused.load(std::memory_order_relaxed)});
    }
  }
  std::sort(out.begin(), out.end(),
            [](const Seen& a, const Seen& b) { return a.client < b.client; });
  return out;
}

}  // namespace smppd::gateway
