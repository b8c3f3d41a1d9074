// Which connection the parts of a long message went to, so that the next parts follow them
// (Pool::pick_locked). A fixed table, allocated once on first use: no allocation per message.
//
// Keys are hashes of (client, destination, reference, total), never 0. A key lives in one of
// kWays neighbouring entries of its bucket; an insert takes the key's own entry, else an empty
// or expired one, else the one that expires first — so under more long messages in flight than
// the table holds, the oldest loses its stickiness (its later parts go where the balancer says)
// and nothing grows. Not thread safe: the pool's mutex guards it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

namespace smppd::upstream {

class StickyTable {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::size_t kEntries = 8192;  // a power of two
  static constexpr std::size_t kWays = 4;

  // The slot remembered for `key`, unless it expired.
  std::optional<std::size_t> find(uint64_t key, Clock::time_point now) const {
    if (!entries_) return std::nullopt;
    for (std::size_t i = 0; i < kWays; ++i) {
      const Entry& e = entries_[index(key, i)];
      if (e.key == key && e.until > now) return e.slot;
    }
    return std::nullopt;
  }

  void remember(uint64_t key, std::size_t slot, Clock::time_point until, Clock::time_point now) {
    if (!entries_) entries_ = std::make_unique<Entry[]>(kEntries);
    Entry* victim = nullptr;
    bool victim_free = false;
    for (std::size_t i = 0; i < kWays; ++i) {
      Entry& e = entries_[index(key, i)];
      if (e.key == key) {
        victim = &e;
        break;
      }
      if (e.key == 0 || e.until <= now) {
        if (!victim_free) victim = &e;
        victim_free = true;
      } else if (!victim_free && (victim == nullptr || e.until < victim->until)) {
        victim = &e;
      }
    }
    *victim = Entry{key, slot, until};
  }

 private:
  struct Entry {
    uint64_t key = 0;
    std::size_t slot = 0;
    Clock::time_point until{};
  };
  static std::size_t index(uint64_t key, std::size_t way) {
    return (static_cast<std::size_t>(key) + way) & (kEntries - 1);
  }
  std::unique_ptr<Entry[]> entries_;
};

}  // namespace smppd::upstream
