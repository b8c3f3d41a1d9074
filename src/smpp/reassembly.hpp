// Reassembly of concatenated messages received as parts (UDH IEI 0x00/0x08 or SAR TLVs).
//
// A message is identified by its ReassemblyKey: the caller's scope (e.g. the session or bound
// system_id, so that two peers' references never meet), source address, destination address,
// concatenation reference and total number of parts. A part with the same reference but another
// total is therefore another message.
//
// Time is passed in by the caller (`now`); there is no hidden clock. Every part that is not
// kept, and every message that is given up, is reported in a return value: nothing is dropped
// silently.
#pragma once

#include <chrono>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "smpp/pdu.hpp"
#include "smpp/segment.hpp"

namespace smpp {

struct ReassemblyKey {
  std::string scope;
  std::string source;
  std::string destination;
  uint16_t reference = 0;
  uint8_t total = 0;
  friend auto operator<=>(const ReassemblyKey&, const ReassemblyKey&) = default;
  friend bool operator==(const ReassemblyKey&, const ReassemblyKey&) = default;
};

struct ReassemblyLimits {
  // A message whose first part arrived this long ago is given up by expire().
  std::chrono::milliseconds timeout = std::chrono::minutes(3);
  std::size_t max_parts = 255;                // a larger total is rejected
  std::size_t max_buffered_bytes = 1u << 20;  // payload octets held over all messages
  std::size_t max_pending_messages = 10000;   // incomplete messages held at once
  // The longest whole message (octets of its parts' payloads): one message_payload TLV holds
  // 65535. A part that would take its message past it is rejected (message_too_long).
  std::size_t max_message_bytes = 65535;
};

enum class ReassemblyOutcome : uint8_t {
  stored,     // kept; the message is still incomplete
  complete,   // this part completed the message: see AcceptResult::message
  duplicate,  // a part with this seq is already held; this one is ignored (and counted)
  rejected,   // invalid part (see reason); nothing kept
  overflow,   // a limit is reached (see reason); the part is not kept, the message's other
              // parts stay until they complete or expire
};

enum class ReassemblyReason : uint8_t {
  none,
  total_zero,        // total parts 0
  seq_zero,          // seq 0
  seq_beyond_total,  // seq > total
  too_many_parts,    // total > max_parts
  message_too_long,  // the parts' payloads would pass max_message_bytes
  byte_limit,        // overflow: max_buffered_bytes would be exceeded
  message_limit,     // overflow: max_pending_messages reached
  malformed_udh,     // add_sm: the UDH does not parse
  partial_sar,       // add_sm: some SAR TLVs missing or of the wrong size
  udh_and_sar,       // add_sm: both a concatenation UDH and SAR TLVs
};

std::string_view to_string(ReassemblyOutcome o);
std::string_view to_string(ReassemblyReason r);

struct CompleteMessage {
  ReassemblyKey key;
  std::vector<uint8_t> payload;  // the parts' payloads in seq order, without UDH
  std::size_t duplicates = 0;    // duplicate parts seen while it was incomplete
};

struct AcceptResult {
  ReassemblyOutcome outcome = ReassemblyOutcome::stored;
  ReassemblyReason reason = ReassemblyReason::none;
  std::optional<CompleteMessage> message;  // set when outcome is complete
  std::optional<ReassemblyKey> key;        // set when outcome is stored: the message's key
};

// A message given up by expire() or drain(), with the parts it had.
struct IncompleteMessage {
  ReassemblyKey key;
  std::chrono::steady_clock::time_point first_seen;
  std::vector<std::pair<uint8_t, std::vector<uint8_t>>> parts;  // (seq, payload), by seq
  std::size_t duplicates = 0;
};

struct ReassemblyStats {
  uint64_t stored = 0;
  uint64_t completed = 0;  // messages
  uint64_t duplicates = 0;
  uint64_t rejected = 0;
  uint64_t overflowed = 0;
  uint64_t expired = 0;  // messages
};

class Reassembler {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  explicit Reassembler(ReassemblyLimits limits = {}) : limits_(limits) {}

  // Adds part `seq` of the message `key` (key.total is its total). Parts may come in any order.
  // A message of one part completes at once without being buffered. A message completes only
  // if its last part arrives before expire() has given it up.
  AcceptResult add(const ReassemblyKey& key, uint8_t seq, std::span<const uint8_t> payload,
                   TimePoint now);

  // Adds a received deliver_sm or submit_sm: concatenation from its UDH (when
  // esm_class has UDHI) or its SAR TLVs, payload from short_message (or message_payload when
  // short_message is empty). A message that is not a part of a concatenated one is returned
  // complete at once (without its UDH, if it had one). Malformed concatenation is `rejected`.
  AcceptResult add_sm(std::string_view scope, const SmFields& sm, TimePoint now);

  // Removes and returns every message whose first part is at least `timeout` older than `now`.
  std::vector<IncompleteMessage> expire(TimePoint now);
  // Removes and returns every incomplete message (for shutdown).
  std::vector<IncompleteMessage> drain();
  // When the oldest incomplete message expires, if there is one.
  std::optional<TimePoint> next_deadline() const;

  std::size_t pending_messages() const { return pending_.size(); }
  std::size_t buffered_bytes() const { return buffered_bytes_; }
  const ReassemblyStats& stats() const { return stats_; }
  const ReassemblyLimits& limits() const { return limits_; }

 private:
  struct Pending {
    TimePoint first_seen;
    std::vector<std::optional<std::vector<uint8_t>>> parts;  // index seq-1
    std::size_t received = 0;
    std::size_t bytes = 0;
    std::size_t duplicates = 0;
  };

  AcceptResult reject(ReassemblyReason reason);
  static IncompleteMessage to_incomplete(const ReassemblyKey& key, Pending& p);

  ReassemblyLimits limits_;
  std::map<ReassemblyKey, Pending> pending_;
  std::size_t buffered_bytes_ = 0;
  ReassemblyStats stats_;
};

}  // namespace smpp
