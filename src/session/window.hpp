// The requests a session sent and still waits for: at most `limit` at once (the SMPP window),
// found by sequence number in O(log n), the oldest first for the response timer.
//
// Entries sit in a ring in the order they were sent, which is also the order of their sequence
// numbers and of their deadlines (every request of a session has the same response timeout).
// A response marks its entry answered; answered entries leave from the front, and the ring is
// compacted when they pile up behind a slow request, so it never holds more than twice the
// limit. It allocates nothing until the first request and gives its memory back when drained
// (an idle session with only enquire_link traffic keeps no table).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "smpp/command.hpp"

namespace smppd::session {

class OutboundWindow {
 public:
  using Clock = std::chrono::steady_clock;

  struct Entry {
    uint32_t seq = 0;
    smpp::CommandId command{};
    bool live = false;
    uint64_t cookie = 0;
    Clock::time_point deadline{};
  };

  explicit OutboundWindow(uint32_t limit) : limit_(limit == 0 ? 1 : limit) {}

  uint32_t limit() const { return limit_; }
  uint32_t size() const { return live_; }
  bool empty() const { return live_ == 0; }
  bool full() const { return live_ >= limit_; }

  // Adds a request. Its sequence number must follow (modulo the wrap) every one in the window.
  void push(uint32_t seq, smpp::CommandId command, uint64_t cookie, Clock::time_point deadline);

  // Removes and returns the request with this sequence number, if it is waiting.
  std::optional<Entry> take(uint32_t seq);

  // The oldest waiting request, or nullptr.
  const Entry* oldest() const;

  // Removes and returns the oldest waiting request.
  std::optional<Entry> pop_oldest();

  // Releases the ring's memory when nothing is waiting and it has grown.
  void release_if_empty();

 private:
  Entry& at(std::size_t i) { return ring_[(head_ + i) & (ring_.size() - 1)]; }
  const Entry& at(std::size_t i) const { return ring_[(head_ + i) & (ring_.size() - 1)]; }
  void drop_answered_front();
  void regrow(std::size_t capacity);

  uint32_t limit_;
  uint32_t live_ = 0;
  std::size_t head_ = 0;
  std::size_t used_ = 0;  // entries from head_, answered ones included
  std::vector<Entry> ring_;
};

// Sequence numbers run 1..0x7FFFFFFF and wrap to 1 (3.4 §3.2).
constexpr uint32_t next_sequence(uint32_t seq) {
  return seq >= 0x7FFFFFFFu ? 1u : seq + 1u;
}

}  // namespace smppd::session
