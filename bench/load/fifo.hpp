// A first-in first-out queue in one ring buffer that doubles when full: unlike std::deque,
// pushing and popping allocate nothing once it has reached its working size.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace smppd::bench {

template <class T>
class Fifo {
 public:
  explicit Fifo(std::size_t capacity = 64) {
    std::size_t cap = 1;
    while (cap < capacity) cap <<= 1;
    ring_.resize(cap);
  }

  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  T& front() { return ring_[head_]; }
  const T& front() const { return ring_[head_]; }

  T& push() {
    if (size_ == ring_.size()) grow();
    T& slot = ring_[(head_ + size_) & (ring_.size() - 1)];
    ++size_;
    return slot;
  }
  void push(const T& v) { push() = v; }
  void pop() {
    head_ = (head_ + 1) & (ring_.size() - 1);
    --size_;
  }

 private:
  void grow() {
    std::vector<T> bigger(ring_.size() * 2);
    for (std::size_t i = 0; i < size_; ++i)
      bigger[i] = std::move(ring_[(head_ + i) & (ring_.size() - 1)]);
    ring_.swap(bigger);
    head_ = 0;
  }

  std::vector<T> ring_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace smppd::bench
