// Rate limits as token buckets. The time is passed in, so that callers use one clock reading per
// event and tests are deterministic.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>

#include "config/config.hpp"

namespace smppd::limits {

// Holds up to `capacity()` tokens and gains `rate` tokens a second; it starts full, so a burst of
// `capacity()` events passes at once and after that they pass at `rate`. Not thread safe: one
// owner (a session), or SharedTokenBucket.
class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  // rate <= 0: unlimited (every take succeeds). burst 0: max(1, ceil(rate)).
  TokenBucket(double rate_per_second, uint32_t burst);
  // The listener's `rate_limit.connections_per_second` / `binds_per_second` with its `burst`.
  static TokenBucket connections(const config::ListenerRateLimit& limit);
  static TokenBucket binds(const config::ListenerRateLimit& limit);

  // Takes `tokens` if the bucket holds them at `now`, and says whether it did. A request for more
  // than capacity() tokens never succeeds (unless unlimited). A `now` earlier than a previous one
  // adds nothing.
  bool try_take(Clock::time_point now, double tokens = 1);

  bool unlimited() const { return rate_ <= 0; }
  double capacity() const { return capacity_; }

 private:
  void refill(Clock::time_point now);

  double rate_;
  double capacity_;
  double tokens_;
  Clock::time_point last_{};
  bool started_ = false;  // last_ is set by the first take
};

// A TokenBucket behind a mutex, for limits shared by every session of a listener (connections and
// binds a second). Taken once per connection or bind, never per message.
class SharedTokenBucket {
 public:
  SharedTokenBucket(double rate_per_second, uint32_t burst) : bucket_(rate_per_second, burst) {}
  explicit SharedTokenBucket(TokenBucket bucket) : bucket_(bucket) {}

  bool try_take(TokenBucket::Clock::time_point now, double tokens = 1);
  bool unlimited() const { return bucket_.unlimited(); }

 private:
  std::mutex mutex_;
  TokenBucket bucket_;
};

}  // namespace smppd::limits
