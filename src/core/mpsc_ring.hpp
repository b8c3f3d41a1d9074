// A bounded multi-producer, single-consumer ring (D. Vyukov's bounded queue): the lock-free
// hand-off from the message path to a thread of its own (the CDR writer, the trace exporter).
// A producer never waits and never allocates: it fills a free slot in place, or is told the
// ring is full and drops what it had (the caller counts it). Slots are made once, so a slot's
// value keeps whatever it owns (a string's capacity) from one use to the next.
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <memory>

namespace smppd {

template <class T>
class MpscRing {
 public:
  // `capacity` is rounded up to a power of two (at least 2).
  explicit MpscRing(std::size_t capacity)
      : mask_(std::bit_ceil(std::max<std::size_t>(capacity, 2)) - 1),
        slots_(std::make_unique<Slot[]>(mask_ + 1)) {
    for (std::size_t i = 0; i <= mask_; ++i) slots_[i].sequence.store(i, std::memory_order_relaxed);
  }
  MpscRing(const MpscRing&) = delete;
  MpscRing& operator=(const MpscRing&) = delete;

  // Any thread. Calls fill(T&) on a free slot and publishes it; false (fill not called) when
  // the ring is full. A slot is free at position `pos` when its sequence is `pos`, and holds a
  // value for the consumer when it is `pos + 1`.
  template <class Fill>
  bool try_push(Fill&& fill) {
    std::size_t pos = enqueue_at_.load(std::memory_order_relaxed);
    Slot* slot;
    for (;;) {
      slot = &slots_[pos & mask_];
      const std::size_t sequence = slot->sequence.load(std::memory_order_acquire);
      const auto diff = static_cast<std::ptrdiff_t>(sequence - pos);
      if (diff == 0) {
        if (enqueue_at_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
      } else if (diff < 0) {
        return false;
      } else {
        pos = enqueue_at_.load(std::memory_order_relaxed);
      }
    }
    fill(slot->value);
    slot->sequence.store(pos + 1, std::memory_order_release);
    return true;
  }

  // The consumer's thread only: the oldest published value, or null.
  T* front() {
    Slot* slot = &slots_[dequeue_at_ & mask_];
    return slot->sequence.load(std::memory_order_acquire) == dequeue_at_ + 1 ? &slot->value
                                                                             : nullptr;
  }
  // The consumer's thread only: gives front()'s slot back to the producers.
  void pop() {
    slots_[dequeue_at_ & mask_].sequence.store(dequeue_at_ + mask_ + 1, std::memory_order_release);
    ++dequeue_at_;
  }

  std::size_t capacity() const { return mask_ + 1; }
  // Values pushed since the start (a producer's view; relaxed).
  std::size_t pushed() const { return enqueue_at_.load(std::memory_order_relaxed); }

 private:
  struct Slot {
    std::atomic<std::size_t> sequence{0};
    T value{};
  };

  const std::size_t mask_;
  std::unique_ptr<Slot[]> slots_;
  alignas(64) std::atomic<std::size_t> enqueue_at_{0};
  alignas(64) std::size_t dequeue_at_ = 0;  // the consumer's thread only
};

}  // namespace smppd
