// The simulator's message ids: a 32-bit counter written as 8 uppercase hex digits
// ("0001A2F3"). Eight characters fit every version (3.3 allows no more), so an id never depends
// on the session that submitted it, and it is read back from query_sm / cancel_sm / replace_sm
// in any case and with or without leading zeros.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace smppd::sim {

inline constexpr std::size_t kMessageIdLength = 8;

// "0001A2F3".
std::string format_message_id(uint32_t id);
// 1-8 hex digits, any case; empty for anything else.
std::optional<uint32_t> parse_message_id(std::string_view text);

// Hands out ids in sequence from `first`, wrapping after 0xFFFFFFFF (to 0).
class MessageIdSequence {
 public:
  explicit MessageIdSequence(uint32_t first) : next_(first) {}
  uint32_t next() { return next_++; }

  // A first id that a restarted simulator is unlikely to have given out recently: the clock in
  // seconds times 1000, so ids repeat only after a run averaging over 1000 messages a second.
  static uint32_t first_from_clock();

 private:
  uint32_t next_;
};

}  // namespace smppd::sim
