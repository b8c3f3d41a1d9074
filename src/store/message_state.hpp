// The states a stored message goes through, as the store records them (stable numbers: they
// are written to disk). A message is accepted (durably stored) in `queued`, `scheduled` or
// `dispatched`; what follows depends on the SMSC.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace smppd::store {

enum class MessageState : uint8_t {
  queued = 1,       // waiting to be sent (on disk; not handed to an upstream)
  scheduled = 2,    // waiting for its schedule_delivery_time
  dispatched = 3,   // handed to an upstream, no answer recorded: after a crash it may have been
                    // sent (sent again: at least once)
  submitted = 4,    // the SMSC accepted it (its id recorded); a receipt may follow
  unconfirmed = 5,  // sent, and no answer came: the SMSC may have taken it (never resent)
  // Final:
  delivered = 10,      // receipt DELIVRD
  undeliverable = 11,  // receipt UNDELIV
  expired = 12,        // receipt EXPIRED, or its validity_period passed before it was sent
  rejected = 13,       // the SMSC refused it (its status in `error`), or receipt REJECTD
  deleted = 14,        // receipt DELETED
  accepted = 15,       // receipt ACCEPTD
  unknown = 16,        // receipt UNKNOWN
  failed = 17,         // smppd gave up: no route or upstream any more (the reason in `error`)
};

constexpr bool is_final(MessageState s) { return static_cast<uint8_t>(s) >= 10; }
// Still to be sent by smppd (after a restart too).
constexpr bool to_send(MessageState s) {
  return s == MessageState::queued || s == MessageState::scheduled ||
         s == MessageState::dispatched;
}

constexpr std::string_view state_name(MessageState s) {
  switch (s) {
    case MessageState::queued: return "queued";
    case MessageState::scheduled: return "scheduled";
    case MessageState::dispatched: return "dispatched";
    case MessageState::submitted: return "submitted";
    case MessageState::unconfirmed: return "unconfirmed";
    case MessageState::delivered: return "delivered";
    case MessageState::undeliverable: return "undeliverable";
    case MessageState::expired: return "expired";
    case MessageState::rejected: return "rejected";
    case MessageState::deleted: return "deleted";
    case MessageState::accepted: return "accepted";
    case MessageState::unknown: return "unknown";
    case MessageState::failed: return "failed";
  }
  return "invalid";
}

inline std::optional<MessageState> state_from_number(int64_t n) {
  if ((n >= 1 && n <= 5) || (n >= 10 && n <= 17)) return static_cast<MessageState>(n);
  return std::nullopt;
}

}  // namespace smppd::store
