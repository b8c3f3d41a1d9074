// smppd's own message ids. Every accepted message gets one, whatever the SMSC's id looks like,
// so a client sees one format and ids never collide across upstreams.
//
// Unique across restarts without storage: the counter starts at the number of microseconds
// since 2024-01-01 when smppd starts and counts up by one per message, so as long as smppd
// hands out fewer than a million ids a second on average, a restarted smppd starts above every
// id it gave before. (A wall clock set back across a restart breaks this; the store of a later
// issue will keep the last id.) 47 bits cover 4,000 years.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "smpp/version.hpp"

namespace smppd::gateway {

class MessageIdSource {
 public:
  MessageIdSource();
  explicit MessageIdSource(uint64_t first) : next_(first) {}
  uint64_t next() { return next_.fetch_add(1, std::memory_order_relaxed); }
  // The next id is above `id` (the highest one a store holds, whatever the clock says now).
  void above(uint64_t id) {
    uint64_t cur = next_.load();
    while (cur <= id && !next_.compare_exchange_weak(cur, id + 1)) {
    }
  }

 private:
  std::atomic<uint64_t> next_;
};

// The first id a source started at `unix_ms` gives: every id given before that instant is
// below it (while smppd averages under a million messages a second).
uint64_t first_message_id_at(int64_t unix_ms);

// 3.3 clients take at most 8 octets: base 62 (8 characters hold 47 bits). Others: lowercase
// hex, 12 digits.
std::string render_message_id(uint64_t id, smpp::Version client_version);
std::optional<uint64_t> parse_message_id(std::string_view text, smpp::Version client_version);

}  // namespace smppd::gateway
