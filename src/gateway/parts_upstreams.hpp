// Which upstream the parts of a long message went to, so that every part of one message goes to
// the same upstream: routing decides per part, and a later part could otherwise be routed
// elsewhere (a route script that reads the part's text, a failover between two parts, a reload).
// An SMSC can only join the parts it received.
//
// Keyed by the message's parts key (gateway.hpp, message_parts_key: client, destination,
// reference, total); an entry lives `ttl` after its last part (multipart.reassembly.timeout).
// Bounded: beyond `max_entries` the oldest half is dropped (a later part then routes afresh).
// Only messages in parts come here: a message in one piece takes no lock.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace smppd::gateway {

class PartsUpstreams {
 public:
  using Clock = std::chrono::steady_clock;

  explicit PartsUpstreams(Clock::duration ttl, std::size_t max_entries = 100'000)
      : ttl_(ttl), max_entries_(max_entries) {}

  // The upstream (MessageMap index) an earlier part of this message took; nothing for its first.
  std::optional<uint32_t> find(uint64_t key, Clock::time_point now);
  // This message's parts go to `upstream`.
  void remember(uint64_t key, uint32_t upstream, Clock::time_point now);

  std::size_t size() const;

 private:
  struct Entry {
    uint32_t upstream = 0;
    Clock::time_point until;
  };
  void prune(Clock::time_point now);

  const Clock::duration ttl_;
  const std::size_t max_entries_;
  mutable std::mutex mutex_;
  std::unordered_map<uint64_t, Entry> entries_;
};

}  // namespace smppd::gateway
