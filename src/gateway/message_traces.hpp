// The trace of each sampled message, kept from its response to its final receipt, so that the
// receipt (minutes later, on another thread) is recorded in the message's trace. Only sampled
// messages enter (1 in 100 at a 1 % ratio); at most kMax are kept, the oldest forgotten first
// (its receipt is then not traced).
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "tracing/trace_context.hpp"

namespace smppd::gateway {

class MessageTraces {
 public:
  static constexpr std::size_t kMax = 200'000;

  void put(uint64_t message_id, const tracing::SpanContext& trace);
  // The message's trace; `final`: forgotten after (its last receipt).
  std::optional<tracing::SpanContext> find(uint64_t message_id, bool final);

 private:
  std::mutex mutex_;
  std::unordered_map<uint64_t, tracing::SpanContext> traces_;
  std::deque<uint64_t> order_;  // oldest first (ids already forgotten are skipped)
};

}  // namespace smppd::gateway
