// A window shared by several sessions (a client's sessions on every listener): the requests
// they were sent and have not answered yet, across all of them, with a limit. A session that
// carries one counts each request it hands to its handler and each answer, gives back what is
// left unanswered when it closes, and answers a request beyond the limit with ESME_RMSGQFUL
// itself. Lock-free; the limit may change while sessions use it.
#pragma once

#include <atomic>
#include <cstdint>

namespace smppd::session {

struct SharedWindow {
  std::atomic<uint32_t> limit{0};  // 0: unlimited (still counted)
  std::atomic<uint32_t> in_flight{0};
  std::atomic<uint64_t> refused{0};

  bool try_enter() {
    const uint32_t max = limit.load(std::memory_order_relaxed);
    const uint32_t before = in_flight.fetch_add(1, std::memory_order_relaxed);
    if (max != 0 && before >= max) {
      in_flight.fetch_sub(1, std::memory_order_relaxed);
      refused.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    return true;
  }
  void leave(uint32_t n = 1) { in_flight.fetch_sub(n, std::memory_order_relaxed); }
};

}  // namespace smppd::session
