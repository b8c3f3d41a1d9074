#include "session/window.hpp"

#include <algorithm>

namespace smppd::session {

namespace {

// Distance of `seq` after `base` on the 1..0x7FFFFFFF circle.
uint32_t distance(uint32_t base, uint32_t seq) {
  return seq >= base ? seq - base : seq + 0x7FFFFFFFu - base;
}

std::size_t round_up_pow2(std::size_t n) {
  std::size_t p = 8;
  while (p < n) p <<= 1;
  return p;
}

}  // namespace

void OutboundWindow::regrow(std::size_t capacity) {
  std::vector<Entry> next(round_up_pow2(capacity));
  std::size_t n = 0;
  for (std::size_t i = 0; i < used_; ++i) {
    if (at(i).live) next[n++] = at(i);
  }
  ring_.swap(next);
  head_ = 0;
  used_ = n;
}

void OutboundWindow::push(uint32_t seq, smpp::CommandId command, uint64_t cookie,
                          Clock::time_point deadline) {
  if (used_ == ring_.size()) {
    // Full of entries: compact if answered ones are in the way, grow otherwise.
    regrow(live_ * 2 >= ring_.size() ? ring_.size() * 2 : ring_.size());
  }
  at(used_) = Entry{seq, command, true, cookie, deadline};
  ++used_;
  ++live_;
}

std::optional<OutboundWindow::Entry> OutboundWindow::take(uint32_t seq) {
  if (live_ == 0) return std::nullopt;
  const uint32_t base = at(0).seq;
  const uint32_t want = distance(base, seq);
  std::size_t lo = 0, hi = used_;
  while (lo < hi) {
    const std::size_t mid = (lo + hi) / 2;
    if (distance(base, at(mid).seq) < want) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo == used_ || at(lo).seq != seq || !at(lo).live) return std::nullopt;
  Entry e = at(lo);
  at(lo).live = false;
  --live_;
  drop_answered_front();
  return e;
}

const OutboundWindow::Entry* OutboundWindow::oldest() const {
  return live_ == 0 ? nullptr : &at(0);
}

std::optional<OutboundWindow::Entry> OutboundWindow::pop_oldest() {
  if (live_ == 0) return std::nullopt;
  Entry e = at(0);
  at(0).live = false;
  --live_;
  drop_answered_front();
  return e;
}

void OutboundWindow::drop_answered_front() {
  while (used_ > 0 && !at(0).live) {
    head_ = (head_ + 1) & (ring_.size() - 1);
    --used_;
  }
  if (used_ == 0) head_ = 0;
}

void OutboundWindow::release_if_empty() {
  if (live_ == 0 && ring_.size() > 64) {
    std::vector<Entry>().swap(ring_);
    head_ = used_ = 0;
  }
}

}  // namespace smppd::session
