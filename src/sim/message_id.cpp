#include "sim/message_id.hpp"

#include <chrono>

namespace smppd::sim {

std::string format_message_id(uint32_t id) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out(kMessageIdLength, '0');
  for (std::size_t i = kMessageIdLength; i-- > 0; id >>= 4) out[i] = kDigits[id & 0xF];
  return out;
}

std::optional<uint32_t> parse_message_id(std::string_view text) {
  if (text.empty() || text.size() > kMessageIdLength) return std::nullopt;
  uint32_t v = 0;
  for (const char c : text) {
    uint32_t d;
    if (c >= '0' && c <= '9') {
      d = static_cast<uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      d = static_cast<uint32_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      d = static_cast<uint32_t>(c - 'A' + 10);
    } else {
      return std::nullopt;
    }
    v = (v << 4) | d;
  }
  return v;
}

uint32_t MessageIdSequence::first_from_clock() {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  return static_cast<uint32_t>(static_cast<uint64_t>(seconds) * 1000u);
}

}  // namespace smppd::sim
