#include "upstream/balancer.hpp"

#include <algorithm>
#include <limits>

namespace smppd::upstream {

Balancer::Balancer(config::LoadBalancing strategy, const std::vector<config::HostConfig>& hosts,
                   uint64_t seed)
    : strategy_(strategy), rng_(seed == 0 ? 1 : seed) {
  for (const auto& h : hosts) {
    HostState s;
    s.weight = h.weight;
    s.priority = h.priority;
    for (const auto& [prefix, price] : h.cost) {
      if (prefix == "*") {
        s.default_cost = price;
      } else {
        s.costs.emplace_back(prefix.starts_with('+') ? prefix.substr(1) : prefix, price);
      }
    }
    std::sort(s.costs.begin(), s.costs.end(),
              [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
    hosts_.push_back(std::move(s));
  }
}

void Balancer::observe_latency(std::size_t host, double ms) {
  if (host >= hosts_.size()) return;
  double& avg = hosts_[host].latency_ms;
  avg = avg == 0 ? ms : avg * 0.9 + ms * 0.1;
}

double Balancer::cost(std::size_t host, std::string_view destination) const {
  if (host >= hosts_.size()) return std::numeric_limits<double>::infinity();
  if (destination.starts_with('+')) destination.remove_prefix(1);
  const HostState& h = hosts_[host];
  for (const auto& [prefix, price] : h.costs) {  // longest first
    if (destination.starts_with(prefix)) return price;
  }
  return h.default_cost;
}

std::optional<std::size_t> Balancer::pick(std::span<const Candidate> c, uint64_t key,
                                          std::string_view destination) {
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

  // Of one host, the eligible connection with the fewest requests in flight.
  auto least_busy_of = [&](std::size_t host) {
    std::optional<std::size_t> chosen;
    for (std::size_t i = 0; i < c.size(); ++i) {
      if (eligible(i) && c[i].host == host && (!chosen || c[i].in_flight < c[*chosen].in_flight)) {
        chosen = i;
      }
    }
    return chosen;
  };

  switch (strategy_) {
    case config::LoadBalancing::least_connections: {
      // The host with the fewest requests in flight over all its connections, for its weight
      // (a host is compared as a whole: how its requests are spread over its connections does
      // not matter); ties go round.
      in_flight_.assign(hosts_.size(), 0);
      has_.assign(hosts_.size(), 0);
      for (std::size_t i = 0; i < c.size(); ++i) {
        if (c[i].host >= hosts_.size()) continue;
        if (c[i].up) in_flight_[c[i].host] += c[i].in_flight;
        if (eligible(i)) has_[c[i].host] = 1;
      }
      std::optional<std::size_t> best_host;
      for (std::size_t k = 0; k < hosts_.size(); ++k) {
        const std::size_t h = (next_ + k) % hosts_.size();
        if (!has_[h]) continue;
        if (!best_host || in_flight_[h] * std::max<uint64_t>(hosts_[*best_host].weight, 1) <
                              in_flight_[*best_host] * std::max<uint64_t>(hosts_[h].weight, 1)) {
          best_host = h;
        }
      }
      next_ = (next_ + 1) % hosts_.size();
      return least_busy_of(*best_host);
    }
    case config::LoadBalancing::cost_based: {
      // The cheapest host up for this destination; among equal prices, smooth weighted round
      // robin. A cheapest host whose connections are all busy is waited for.
      has_.assign(hosts_.size(), 0);
      double cheapest = std::numeric_limits<double>::infinity();
      bool any = false;
      for (const auto& x : c) {
        if (!x.up || x.host >= hosts_.size() || hosts_[x.host].priority != best) continue;
        const double price = cost(x.host, destination);
        if (!any || price < cheapest) cheapest = price;
        any = true;
      }
      for (std::size_t i = 0; i < c.size(); ++i) {
        if (c[i].up && c[i].host < hosts_.size() && hosts_[c[i].host].priority == best &&
            cost(c[i].host, destination) == cheapest) {
          has_[c[i].host] = 1;
        }
      }
      int64_t total = 0;
      std::optional<std::size_t> best_host;
      for (std::size_t h = 0; h < hosts_.size(); ++h) {
        if (!has_[h]) continue;
        bool room = false;
        for (std::size_t i = 0; i < c.size(); ++i) room = room || (eligible(i) && c[i].host == h);
        if (!room) continue;
        hosts_[h].current += hosts_[h].weight;
        total += hosts_[h].weight;
        if (!best_host || hosts_[h].current > hosts_[*best_host].current) best_host = h;
      }
      if (!best_host) return std::nullopt;  // the cheapest are busy: wait for them
      hosts_[*best_host].current -= total;
      return least_busy_of(*best_host);
    }
    case config::LoadBalancing::weighted_round_robin: {
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
      return least_busy_of(*best_host);  // among that host's connections, the least busy
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
      // A key keeps its host while the same hosts are up: the hash is over the hosts of the
      // best priority with a connection up, not over the connections with room (which come
      // and go with every window). When that host has no room, the request waits for it.
      has_.assign(hosts_.size(), 0);
      std::size_t hosts_up = 0;
      for (const auto& x : c) {
        if (x.up && x.host < hosts_.size() && hosts_[x.host].priority == best && !has_[x.host]) {
          has_[x.host] = 1;
          ++hosts_up;
        }
      }
      std::size_t n = static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> 32) % hosts_up;
      for (std::size_t h = 0; h < hosts_.size(); ++h) {
        if (has_[h] && n-- == 0) return least_busy_of(h);
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
