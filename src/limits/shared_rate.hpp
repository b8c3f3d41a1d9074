// A rate limit shared by several threads without a lock: the generic cell rate algorithm (GCRA),
// the token bucket's twin that keeps one number, the theoretical arrival time of the next event.
// For a client's `messages_per_second` across all its sessions, which may be on different
// threads: one compare-and-swap per message, and nothing at all while unlimited.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>

namespace smppd::limits {

class SharedRate {
 public:
  using Clock = std::chrono::steady_clock;

  // rate <= 0: unlimited. burst 0: max(1, ceil(rate)) events at once. Thread safe; takes
  // effect for the next event. A change starts afresh, with a full burst (the schedule of the
  // old rate may run further ahead than the new one allows).
  void set(double rate_per_second, uint32_t burst) {
    int64_t interval = 0;
    int64_t tolerance = 0;
    if (rate_per_second > 0) {
      const double step = std::max(1.0, 1e9 / rate_per_second);
      const double events = burst > 0 ? burst : std::max(1.0, std::ceil(rate_per_second));
      interval = static_cast<int64_t>(step);
      tolerance = static_cast<int64_t>(step * (events - 1));
    }
    if (interval == interval_ns_.load(std::memory_order_relaxed) &&
        tolerance == tolerance_ns_.load(std::memory_order_relaxed)) {
      return;  // unchanged: the schedule goes on
    }
    tolerance_ns_.store(tolerance, std::memory_order_relaxed);
    interval_ns_.store(interval, std::memory_order_relaxed);
    tat_.store(0, std::memory_order_relaxed);
  }

  bool limited() const { return interval_ns_.load(std::memory_order_relaxed) != 0; }

  // Takes one event at `now` if the rate allows it; counts a refusal otherwise.
  bool try_take(Clock::time_point now) {
    const int64_t interval = interval_ns_.load(std::memory_order_relaxed);
    if (interval == 0) return true;
    const int64_t tolerance = tolerance_ns_.load(std::memory_order_relaxed);
    const int64_t t =
        std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
    int64_t tat = tat_.load(std::memory_order_relaxed);
    for (;;) {
      const int64_t start = std::max(tat, t);
      if (start - t > tolerance) {
        refused_.fetch_add(1, std::memory_order_relaxed);
        return false;
      }
      if (tat_.compare_exchange_weak(tat, start + interval, std::memory_order_relaxed)) {
        return true;
      }
    }
  }

  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> interval_ns_{0};   // 0: unlimited
  std::atomic<int64_t> tolerance_ns_{0};  // how far ahead of now the schedule may run
  std::atomic<int64_t> tat_{0};           // when the next event is due, on the schedule
  std::atomic<uint64_t> refused_{0};
};

}  // namespace smppd::limits
