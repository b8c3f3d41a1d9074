#include "limits/token_bucket.hpp"

#include <algorithm>
#include <cmath>

namespace smppd::limits {

namespace {

// Tolerates rounding in the refill: 10 tokens a second for 100 ms must give a whole token.
constexpr double kEpsilon = 1e-9;

}  // namespace

TokenBucket::TokenBucket(double rate_per_second, uint32_t burst)
    : rate_(rate_per_second > 0 ? rate_per_second : 0),
      capacity_(burst > 0 ? burst : std::max(1.0, std::ceil(rate_))),
      tokens_(capacity_) {}

TokenBucket TokenBucket::connections(const config::ListenerRateLimit& limit) {
  return {limit.connections_per_second, limit.burst};
}

TokenBucket TokenBucket::binds(const config::ListenerRateLimit& limit) {
  return {limit.binds_per_second, limit.burst};
}

void TokenBucket::refill(Clock::time_point now) {
  if (!started_) {
    started_ = true;
    last_ = now;
    return;
  }
  if (now <= last_) return;
  double elapsed = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(capacity_, tokens_ + elapsed * rate_);
  last_ = now;
}

bool TokenBucket::try_take(Clock::time_point now, double tokens) {
  if (unlimited()) return true;
  refill(now);
  if (tokens_ + kEpsilon < tokens) return false;
  tokens_ = std::max(0.0, tokens_ - tokens);
  return true;
}

bool SharedTokenBucket::try_take(TokenBucket::Clock::time_point now, double tokens) {
  if (bucket_.unlimited()) return true;  // immutable after construction: no lock needed
  std::lock_guard lock(mutex_);
  return bucket_.try_take(now, tokens);
}

}  // namespace smppd::limits
