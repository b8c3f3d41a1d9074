#include "gateway/message_ids.hpp"

#include <chrono>

namespace smppd::gateway {

namespace {
constexpr std::string_view kBase62 =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr int64_t kEpoch2024 = 1704067200;  // 2024-01-01T00:00:00Z
}  // namespace

uint64_t first_message_id_at(int64_t unix_ms) {
  const int64_t micros = unix_ms * 1000 - kEpoch2024 * 1000000;
  return micros > 0 ? static_cast<uint64_t>(micros) : 0;
}

MessageIdSource::MessageIdSource() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const int64_t us =
      std::chrono::duration_cast<std::chrono::microseconds>(now).count() - kEpoch2024 * 1000000;
  next_.store(us > 0 ? static_cast<uint64_t>(us) : 1);
}

std::string render_message_id(uint64_t id, smpp::Version v) {
  if (v == smpp::Version::v33) {
    std::string out(8, '0');
    for (int i = 7; i >= 0; --i) {
      out[static_cast<std::size_t>(i)] = kBase62[id % 62];
      id /= 62;
    }
    return out;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(12, '0');
  for (int i = 11; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = kHex[id & 0xF];
    id >>= 4;
  }
  return out;
}

std::optional<uint64_t> parse_message_id(std::string_view text, smpp::Version v) {
  if (text.empty() || text.size() > 16) return std::nullopt;
  uint64_t id = 0;
  for (char c : text) {
    if (v == smpp::Version::v33) {
      const auto pos = kBase62.find(c);
      if (pos == std::string_view::npos) return std::nullopt;
      id = id * 62 + pos;
    } else {
      int d;
      if (c >= '0' && c <= '9') {
        d = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        d = c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        d = c - 'A' + 10;
      } else {
        return std::nullopt;
      }
      id = id << 4 | static_cast<uint64_t>(d);
    }
  }
  return id;
}

}  // namespace smppd::gateway
