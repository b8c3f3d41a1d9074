#include "upstream/balancer.hpp"

#include <limits>

namespace smppd::upstream {

Balancer::Balancer(config::LoadBalancing strategy, const std::vector<config::HostConfig>& hosts,
                   uint64_t seed)
    : strategy_(strategy), rng_(seed == 0 ? 1 : seed) {
  for (const auto& h : hosts) {
    HostState s;
    s.weight = h.weight;
    s.priority = h.priority;
    hosts_.push_back(s);
  }
}

void Balancer::observe_latency(std::size_t host, double ms) {
  if (host >= hosts_.size()) return;
  double& avg = hosts_[host].latency_ms;
  avg = avg == 0 ? ms : avg * 0.9 + ms * 0.1;
}

std::optional<std::size_t> Balancer::pick(std::span<const Candidate> c, uint64_t key) {
  // The best priority among hosts with a connection up.
  uint32_t best = std::numeric_limits<uint32_t>::max();
  for (const auto& x : c) {
    if (x.up && x.host < hosts_.size()) best = std::min(best, hosts_[x.host].priority);
  }
  if (best == std::numeric_limits<uint32_t>::max()) return std::nullopt;
  auto eligible = [&](std::size_t i) {
    return c[i].available && c[i].host < hosts_.size() && hosts_[c[i].host].priority == best;
  };
  std::size_t count = 0;
  for (std::size_t i = 0; i < c.size(); ++i) count += eligible(i) ? 1 : 0;
  if (count == 0) return std::nullopt;

  switch (strategy_) {
    case config::LoadBalancing::least_connections: {
      std::optional<std::size_t> chosen;
      for (std::size_t k = 0; k < c.size(); ++k) {
        const std::size_t i = (next_ + k) % c.size();  // ties go round
        if (eligible(i) && (!chosen || c[i].in_flight < c[*chosen].in_flight)) chosen = i;
      }
      next_ = (next_ + 1) % c.size();
      return chosen;
    }
    case config::LoadBalancing::weighted_round_robin:
    case config::LoadBalancing::cost_based: {
      // Smooth weighted round robin over the hosts that have an eligible connection (nginx's
      // algorithm): every host gains its weight, the richest is chosen and pays the total.
      int64_t total = 0;
      std::optional<std::size_t> best_host;
      has_.assign(hosts_.size(), 0);
      auto& has = has_;
      for (std::size_t i = 0; i < c.size(); ++i) {
        if (eligible(i)) has[c[i].host] = 1;
      }
      for (std::size_t h = 0; h < hosts_.size(); ++h) {
        if (!has[h]) continue;
        hosts_[h].current += hosts_[h].weight;
        total += hosts_[h].weight;
        if (!best_host || hosts_[h].current > hosts_[*best_host].current) best_host = h;
      }
      hosts_[*best_host].current -= total;
      // Among that host's connections, the least busy.
      std::optional<std::size_t> chosen;
      for (std::size_t i = 0; i < c.size(); ++i) {
        if (eligible(i) && c[i].host == *best_host &&
            (!chosen || c[i].in_flight < c[*chosen].in_flight)) {
          chosen = i;
        }
      }
      return chosen;
    }
    case config::LoadBalancing::random: {
      rng_ ^= rng_ << 13;
      rng_ ^= rng_ >> 7;
      rng_ ^= rng_ << 17;
      std::size_t n = rng_ % count;
      for (std::size_t i = 0; i < c.size(); ++i) {
        if (eligible(i) && n-- == 0) return i;
      }
      return std::nullopt;
    }
    case config::LoadBalancing::ip_hash: {
      std::size_t n = static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> 32) % count;
      for (std::size_t i = 0; i < c.size(); ++i) {
        if (eligible(i) && n-- == 0) return i;
      }
      return std::nullopt;
    }
    case config::LoadBalancing::latency: {
      std::optional<std::size_t> chosen;
      for (std::size_t k = 0; k < c.size(); ++k) {
        const std::size_t i = (next_ + k) % c.size();
        if (!eligible(i)) continue;
        if (!chosen || hosts_[c[i].host].latency_ms < hosts_[c[*chosen].host].latency_ms) {
          chosen = i;
        }
      }
      next_ = (next_ + 1) % c.size();
      return chosen;
    }
    case config::LoadBalancing::round_robin:
      break;
  }
  for (std::size_t k = 0; k < c.size(); ++k) {
    const std::size_t i = (next_ + k) % c.size();
    if (eligible(i)) {
      next_ = (i + 1) % c.size();
      return i;
    }
  }
  return std::nullopt;
}

}  // namespace smppd::upstream
