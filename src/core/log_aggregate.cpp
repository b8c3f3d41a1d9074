#include "core/log_aggregate.hpp"

#include <mutex>

namespace smppd::log {

namespace {

std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}
Aggregated*& registry_head() {
  static Aggregated* head = nullptr;
  return head;
}

int64_t ns(Aggregated::Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

void write(Level level, const std::string& line) {
  switch (level) {
    case Level::debug:
      debug("{}", line);
      break;
    case Level::info:
      info("{}", line);
      break;
    case Level::warn:
      warn("{}", line);
      break;
    case Level::error:
      error("{}", line);
      break;
  }
}

}  // namespace

Aggregated::Aggregated(Level level, std::string what, std::chrono::milliseconds interval)
    : level_(level),
      what_(std::move(what)),
      interval_ns_(std::chrono::duration_cast<std::chrono::nanoseconds>(interval).count()) {
  // spdlog's registry (a function-local static in libspdlog) must outlive every aggregate, whose
  // destructor says its last count: made before this one is, it is destroyed after it. (An
  // aggregate made before the first log line would otherwise write through a destroyed default
  // logger at exit.)
  (void)spdlog::default_logger_raw();
  std::lock_guard lock(registry_mutex());
  next_ = registry_head();
  if (next_ != nullptr) next_->prev_ = this;
  registry_head() = this;
}

Aggregated::~Aggregated() {
  flush(Clock::time_point::max());
  std::lock_guard lock(registry_mutex());
  if (prev_ != nullptr) {
    prev_->next_ = next_;
  } else {
    registry_head() = next_;
  }
  if (next_ != nullptr) next_->prev_ = prev_;
}

bool Aggregated::take_turn(Clock::time_point now, uint64_t& more) {
  total_.fetch_add(1, std::memory_order_relaxed);
  const int64_t t = ns(now);
  int64_t next = next_ns_.load(std::memory_order_relaxed);
  if (t < next || !next_ns_.compare_exchange_strong(next, t + interval_ns_)) {
    // Not this one's turn (or another thread took it just now): only counted.
    suppressed_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  more = suppressed_.exchange(0, std::memory_order_relaxed);
  return true;
}

void Aggregated::emit(std::string line, uint64_t more) {
  if (more > 0) {
    line += fmt::format(" (and {} more {} in the last {} s)", more, what_,
                        (interval_ns_ + 999'999'999) / 1'000'000'000);
  }
  write(level_, line);
}

void Aggregated::flush(Clock::time_point now) {
  if (suppressed_.load(std::memory_order_relaxed) == 0) return;
  if (spdlog::default_logger_raw() == nullptr) return;  // at exit, after the logger went
  if (ns(now) < next_ns_.load(std::memory_order_relaxed)) return;
  const uint64_t more = suppressed_.exchange(0, std::memory_order_relaxed);
  if (more == 0) return;
  write(level_, fmt::format("{} more {} not logged one by one", more, what_));
}

void Aggregated::flush_all(Clock::time_point now) {
  std::lock_guard lock(registry_mutex());
  for (Aggregated* a = registry_head(); a != nullptr; a = a->next_) a->flush(now);
}

AggregatedByKey::AggregatedByKey(Level level, std::string what, std::chrono::milliseconds interval,
                                 std::size_t max_keys)
    : level_(level), what_(std::move(what)), interval_(interval), max_keys_(max_keys) {}

Aggregated& AggregatedByKey::of(std::string_view key) {
  std::lock_guard lock(mutex_);
  if (auto it = by_key_.find(key); it != by_key_.end()) return *it->second;
  if (by_key_.size() >= max_keys_) {
    if (!others_) others_ = std::make_unique<Aggregated>(level_, what_, interval_);
    return *others_;
  }
  auto a = std::make_unique<Aggregated>(level_, what_ + " (" + std::string(key) + ")", interval_);
  return *by_key_.emplace(std::string(key), std::move(a)).first->second;
}

}  // namespace smppd::log
