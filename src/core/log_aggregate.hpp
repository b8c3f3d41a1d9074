// Log lines that a peer can trigger at will (a receipt matching no message, a message with no
// route, a refused connection) are aggregated: the first one of an interval is logged as it is,
// the rest are only counted, and the count is said with the next line that is logged, or by
// flush_all() (the server calls it every second) once the interval is over. A flood of 100,000
// unknown receipts is then one line every `interval` with "and 99,999 more like it", not 16 MB.
//
//   static log::Aggregated unmatched(log::Level::warn, "receipts matching no message");
//   unmatched("upstream {}: a delivery receipt for id '{}' matches no message", name, id);
//
// Thread safe. A line that is not logged costs a clock read and two relaxed atomic operations:
// no lock, no formatting.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "core/log.hpp"

namespace smppd::log {

class Aggregated {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds kDefaultInterval{10000};

  // `what` names the kind of line in the count ("17 more receipts matching no message").
  Aggregated(Level level, std::string what, std::chrono::milliseconds interval = kDefaultInterval);
  ~Aggregated();
  Aggregated(const Aggregated&) = delete;
  Aggregated& operator=(const Aggregated&) = delete;

  template <class... Args>
  void operator()(spdlog::format_string_t<Args...> format, Args&&... args) {
    uint64_t more = 0;
    if (!take_turn(Clock::now(), more)) return;
    emit(fmt::format(format, std::forward<Args>(args)...), more);
  }

  // Lines counted and not logged since the last one that was.
  uint64_t suppressed() const { return suppressed_.load(std::memory_order_relaxed); }
  // Lines asked for in all (logged or not).
  uint64_t total() const { return total_.load(std::memory_order_relaxed); }

  // Says the count of every aggregate whose interval is over and that has lines not yet said.
  static void flush_all(Clock::time_point now = Clock::now());

 private:
  // True when this call logs (and takes the count of lines suppressed before it).
  bool take_turn(Clock::time_point now, uint64_t& more);
  void emit(std::string line, uint64_t more);
  void flush(Clock::time_point now);

  const Level level_;
  const std::string what_;
  const int64_t interval_ns_;
  std::atomic<int64_t> next_ns_{0};  // the next line logs at or after this (steady clock)
  std::atomic<uint64_t> suppressed_{0};
  std::atomic<uint64_t> total_{0};
  Aggregated* prev_ = nullptr;  // the registry of every live aggregate, for flush_all()
  Aggregated* next_ = nullptr;
};

// Aggregated lines of one kind told apart by a key (a refusal's reason): each key has its own
// interval, so a line of a rare reason is not hidden behind a flood of another. Keys past
// `max_keys` share one aggregate, so memory stays bounded whatever the keys are made of.
class AggregatedByKey {
 public:
  AggregatedByKey(Level level, std::string what,
                  std::chrono::milliseconds interval = Aggregated::kDefaultInterval,
                  std::size_t max_keys = 32);

  template <class... Args>
  void operator()(std::string_view key, spdlog::format_string_t<Args...> format, Args&&... args) {
    of(key)(format, std::forward<Args>(args)...);
  }

 private:
  Aggregated& of(std::string_view key);

  const Level level_;
  const std::string what_;
  const std::chrono::milliseconds interval_;
  const std::size_t max_keys_;
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Aggregated>, std::less<>> by_key_;
  std::unique_ptr<Aggregated> others_;
};

}  // namespace smppd::log
