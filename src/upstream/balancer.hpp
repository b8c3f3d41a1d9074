// Choosing the connection for the next request: pure, no I/O, no locks (the pool holds its lock
// around it). Priorities first: a host of a higher priority number is a backup, used only when
// no host of a lower number has a connection up — a busy primary makes requests wait, it does
// not spill them onto the backup.
#pragma once

#include <cstdint>
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
};

class Balancer {
 public:
  Balancer(config::LoadBalancing strategy, const std::vector<config::HostConfig>& hosts,
           uint64_t seed = 0x9E3779B97F4A7C15ull);

  // The index of the chosen candidate, or nullopt when none of the best priority is available
  // (the request waits). `key` feeds ip_hash.
  std::optional<std::size_t> pick(std::span<const Candidate> candidates, uint64_t key = 0);

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
