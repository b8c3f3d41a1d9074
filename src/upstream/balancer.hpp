// Choosing the connection for the next request: pure, no I/O, no locks (the pool holds its lock
// around it). Priorities first: a host of a higher priority number is a backup, used only when
// no host of a lower number has a connection up — a busy primary makes requests wait, it does
// not spill them onto the backup.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <optional>
#include <span>
#include <vector>

#include "config/config.hpp"

namespace smppd::upstream {

struct Candidate {
  std::size_t host = 0;    // index into the upstream's hosts
  bool up = false;         // connected and bound, and its host healthy (health checks)
  bool available = false;  // up, not paused, window not full
  uint32_t in_flight = 0;  // requests waiting for their response
};

struct HostState {
  uint32_t weight = 100;
  uint32_t priority = 1;
  int64_t current = 0;    // smooth weighted round robin
  double latency_ms = 0;  // moving average of response time
  // cost_based: the host's prices by destination prefix (digits, without '+'), longest first,
  // and its "*" price; a destination no prefix covers and no "*" costs +infinity (last resort).
  std::vector<std::pair<std::string, double>> costs;
  double default_cost = std::numeric_limits<double>::infinity();
};

class Balancer {
 public:
  Balancer(config::LoadBalancing strategy, const std::vector<config::HostConfig>& hosts,
           uint64_t seed = 0x9E3779B97F4A7C15ull);

  // The index of the chosen candidate, or nullopt when none of the best priority is available
  // (the request waits). `key` feeds ip_hash; `destination` (its digits, a '+' ignored) feeds
  // cost_based: of the hosts up (connected and healthy) of the best priority, the cheapest for
  // it (the longest prefix of its cost table, else its "*"), ties by weight; when the cheapest
  // has no room the request waits for it rather than go dearer.
  std::optional<std::size_t> pick(std::span<const Candidate> candidates, uint64_t key = 0,
                                  std::string_view destination = {});

  // A host's price for this destination (cost_based).
  double cost(std::size_t host, std::string_view destination) const;

  // Response time of a request answered by a host (for the latency strategy).
  void observe_latency(std::size_t host, double ms);

  const std::vector<HostState>& hosts() const { return hosts_; }

 private:
  config::LoadBalancing strategy_;
  std::vector<HostState> hosts_;
  std::size_t next_ = 0;
  std::vector<uint8_t> has_;         // scratch per host, reused
  std::vector<uint64_t> in_flight_;  // scratch per host (least_connections), reused
  uint64_t rng_;
};

}  // namespace smppd::upstream
