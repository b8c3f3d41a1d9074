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

std::shared_ptr<ClientLimit> ClientLimits::external(
    const std::shared_ptr<const config::ClientConfig>& settings) {
  const std::string_view system_id = settings->system_id;
  const config::ClientRateLimit& rate = settings->rate_limit;
  std::lock_guard lock(mutex_);
  if (auto it = by_id_.find(system_id); it != by_id_.end()) return it->second.limit;
  if (external_.size() >= kMaxExternal && !external_.contains(system_id)) {
    for (auto it = external_.begin(); it != external_.end();) {
      it = it->second.limit.use_count() == 1 ? external_.erase(it) : std::next(it);
    }
  }
  auto& e = external_[std::string(system_id)];
  if (!e.limit) e.limit = std::make_shared<ClientLimit>();
  std::shared_ptr<ClientLimit> limit = e.limit;
  limit->rate.set(rate.messages_per_second, rate.burst);
  limit->window->limit.store(rate.window_size, std::memory_order_relaxed);
  e.messages_per_second = rate.messages_per_second;
  e.settings = settings;
  return limit;
}

std::shared_ptr<const config::ClientConfig> ClientLimits::external_settings(
    std::string_view system_id) const {
  std::lock_guard lock(mutex_);
  auto it = external_.find(system_id);
  return it == external_.end() || by_id_.contains(system_id) ? nullptr : it->second.settings;
}

std::shared_ptr<ClientLimit> ClientLimits::find_external(std::string_view system_id) const {
  std::lock_guard lock(mutex_);
  auto it = external_.find(system_id);
  return it == external_.end() ? nullptr : it->second.limit;
}

std::vector<std::shared_ptr<const config::ClientConfig>> ClientLimits::external_clients() const {
  std::vector<std::shared_ptr<const config::ClientConfig>> out;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, e] : external_) {
      if (!by_id_.contains(id)) out.push_back(e.settings);
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a->system_id < b->system_id; });
  return out;
}

std::vector<ClientLimits::Seen> ClientLimits::seen() const {
  std::vector<Seen> out;
  {
    std::lock_guard lock(mutex_);
    out.reserve(by_id_.size());
    auto add = [&](const std::string& id, const ClientLimit& l, double mps) {
      const session::SharedWindow& w = *l.window;
      out.push_back(Seen{id, mps, w.limit.load(std::memory_order_relaxed),
                         w.in_flight.load(std::memory_order_relaxed), l.rate.refused(),
                         w.refused.load(std::memory_order_relaxed)});
    };
    for (const auto& [id, e] : by_id_) add(id, *e.limit, e.messages_per_second);
    for (const auto& [id, e] : external_) {
      if (by_id_.contains(id)) continue;
      add(id, *e.limit, e.messages_per_second);
    }
  }
  std::sort(out.begin(), out.end(),
            [](const Seen& a, const Seen& b) { return a.client < b.client; });
  return out;
}

}  // namespace smppd::gateway
