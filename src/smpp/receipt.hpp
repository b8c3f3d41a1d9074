// SMSC delivery receipts (3.4 Appendix B, §5.2.28, §5.3.2.35): recognising them, reading them
// leniently from the text real SMSCs send, building them in the standard format, rewriting the
// message id inside them, and normalising message ids so a receipt finds its submit_sm_resp.
//
// Everything here is pure and total: any input gives a value or std::nullopt, never a crash.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "smpp/pdu.hpp"
#include "smpp/time.hpp"
#include "smpp/version.hpp"

namespace smpp {

// message_state (3.4 §5.2.28; 5.0 adds scheduled 0 and skipped 9).
enum class MessageState : uint8_t {
  scheduled = 0,
  enroute = 1,
  delivered = 2,
  expired = 3,
  deleted = 4,
  undeliverable = 5,
  accepted = 6,
  unknown = 7,
  rejected = 8,
  skipped = 9,
};

// The message_state with this value, or empty for values above 9.
std::optional<MessageState> message_state_from_value(uint8_t value);
// The receipt's stat word: DELIVRD, EXPIRED, DELETED, UNDELIV, ACCEPTD, UNKNOWN, REJECTD,
// ENROUTE, and SCHEDULED / SKIPPED for the 5.0 states (5.0 gives them no 7-letter word).
std::string_view stat_word(MessageState state);
// Reads a stat word, ignoring case and surrounding spaces. Takes the Appendix B words, the full
// state names (DELIVERED, UNDELIVERABLE, ...), SCHEDUL and SKIPPED; anything else is unknown.
MessageState message_state_from_stat(std::string_view word);
// Whether no further receipt is expected: every state but scheduled and enroute (3.4 Appendix
// B lists ACCEPTD among the final states).
constexpr bool is_final(MessageState s) {
  return s != MessageState::scheduled && s != MessageState::enroute;
}

// What esm_class bits 5-2 say about a deliver_sm / data_sm.
enum class ReceiptKind : uint8_t {
  none,                       // an ordinary message (or an SME ack, conversation abort, ...)
  delivery_receipt,           // xx0001xx: SMSC delivery receipt
  intermediate_notification,  // xx1000xx: intermediate delivery notification
};
ReceiptKind receipt_kind(uint8_t esm_class);
// True only for an SMSC delivery receipt (bits 5-2 = 0001); see receipt_kind() for the
// intermediate notification.
constexpr bool is_receipt(uint8_t esm_class) {
  return (esm_class & esm_class::kMessageTypeMask) == esm_class::kDeliveryReceipt;
}
constexpr bool is_intermediate_notification(uint8_t esm_class) {
  return (esm_class & esm_class::kMessageTypeMask) == esm_class::kIntermediateNotification;
}

// network_error_code TLV (3.4 §5.3.2.31): network type (1 ANSI-136, 2 IS-95, 3 GSM), code.
struct NetworkErrorCode {
  uint8_t network_type = 0;
  uint16_t error_code = 0;
  friend bool operator==(const NetworkErrorCode&, const NetworkErrorCode&) = default;
};

// Longest id accepted from a receipt text. The 3.4 message_id is at most 64 characters, but
// some SMSCs put a 65-character id in the text.
inline constexpr std::size_t kMaxReceiptIdLength = 65;

// A delivery receipt. The text fields keep what the SMSC wrote (trimmed of surrounding spaces);
// empty when the field was missing.
struct Receipt {
  ReceiptKind kind = ReceiptKind::delivery_receipt;
  // The SMSC's message id: receipted_message_id when present, otherwise `id:` of the text.
  std::string id;
  std::string sub;          // "001"
  std::string dlvrd;        // "001"
  std::string submit_date;  // "YYMMDDhhmm" or "YYMMDDhhmmss"
  std::string done_date;
  std::string stat;  // the word as written ("DELIVRD"); empty when only the TLV gave the state
  // message_state TLV when present, otherwise read from `stat` (unknown when neither).
  MessageState state = MessageState::unknown;
  std::string err;   // "000"
  std::string text;  // what follows `text:` up to the end (the start of the original message)

  // What came from TLVs (deliver_sm / data_sm only).
  std::optional<std::string> receipted_message_id;
  std::optional<uint8_t> message_state_value;  // raw, may be outside 0-9
  std::optional<NetworkErrorCode> network_error;
  // `id:` as written in the text, even when the TLV gave `id`.
  std::string text_id;

  // submit_date / done_date as times (the SMSC's local time, taken as UTC); empty when missing
  // or not a valid date.
  std::optional<SmppTime> submit_time() const;
  std::optional<SmppTime> done_time() const;
};

// Parses an Appendix B receipt text leniently: keys in any case and order (`id`, `sub`,
// `dlvrd`, `submit date` / `submit_date`, `done date` / `done_date`, `stat`, `err`, `text`),
// spaces around values, missing fields, unknown keys skipped. A value runs to the next space;
// `text:` takes everything after it, so it is read last even when other keys follow it.
// std::nullopt when there is no usable id (missing, empty, longer than kMaxReceiptIdLength or
// containing control characters). Duplicate keys: the first wins.
std::optional<Receipt> parse_receipt_text(std::string_view text);

// Reads a receipt from a decoded PDU whose esm_class marks a delivery receipt or intermediate
// notification (std::nullopt otherwise). receipted_message_id, message_state and
// network_error_code TLVs take precedence over the text, which comes from short_message or else
// message_payload; a PDU with both TLVs needs no text at all.
std::optional<Receipt> parse_receipt(const DeliverSm& pdu);
std::optional<Receipt> parse_receipt(const DataSm& pdu);

// What matching a receipt to its message needs, read as parse_receipt reads it but without
// allocating: the SMSC's id (receipted_message_id when usable, else the text's id) and the
// state (message_state, else the text's stat). `id` points into the PDU.
struct ReceiptKey {
  std::string_view id;
  MessageState state = MessageState::unknown;
};
std::optional<ReceiptKey> receipt_key(const DeliverSm& pdu);
std::optional<ReceiptKey> receipt_key(const DataSm& pdu);

// A receipt date (YYMMDDhhmm, or YYMMDDhhmmss) as a time, empty when invalid.
std::optional<SmppTime> parse_receipt_date(std::string_view date);
// YYMMDDhhmm of an absolute time (its local fields; the offset is not written).
std::string format_receipt_date(const SmppTime& t);

// The standard text: "id:<id> sub:<sub> dlvrd:<dlvrd> submit date:<..> done date:<..>
// stat:<word> err:<err> text:<first 20 characters of text>". Empty sub defaults to 001, empty
// dlvrd to 001 when delivered else 000, empty err to 000; stat is stat_word(state). `text` is
// cut after 20 characters, counting a UTF-8 sequence as one.
std::string format_receipt_text(const Receipt& r);

// Makes `out` carry this receipt: esm_class 0x04 (0x20 for an intermediate notification), the
// standard text in short_message (message_payload when longer than 254 octets and the peer takes
// TLVs), receipted_message_id + message_state (+ network_error_code when set) TLVs unless the
// peer is 3.3, in which case those TLVs are removed. Addresses and data_coding are the caller's.
// False (and `out` unchanged) when the id is empty or the text fits nowhere.
bool fill_receipt(DeliverSm& out, const Receipt& r, Version peer);

// Replaces the value of `id:` in a receipt text with `new_id`, keeping every other byte.
// std::nullopt when the text has no id field or `new_id` is empty or contains spaces.
std::optional<std::string> rewrite_receipt_id(std::string_view text, std::string_view new_id);
// Replaces the SMSC's id in a receipt PDU with `new_id`: receipted_message_id (when present) and
// the `id:` of the text in short_message or message_payload. False (and `pdu` unchanged) when
// the PDU has neither, or the new text no longer fits short_message.
bool rewrite_receipt_id(DeliverSm& pdu, std::string_view new_id);

// ---- message-id normalisation ----
//
// SMSCs disagree with themselves about ids: hex in submit_sm_resp and decimal in the receipt (or
// the reverse), upper or lower case, leading zeros. The rule:
//   canonical(id) = id trimmed of spaces, ASCII-lowercased, leading zeros stripped ("0" for
//                   all zeros).
//   keys(id)      = canonical(id); then, when canonical(id) is 1-16 hex digits, that number in
//                   decimal; then, when it is 1-20 decimal digits that fit 64 bits, that number
//                   in lowercase hex. Duplicates are dropped; the first key is always canonical.
// A matcher stores each submit_sm_resp id under canonical(id) and looks a receipt id up under
// each of keys(id) in order, preferring the first hit. "0A1B2C3D" and "169552957" match either
// way round. An id made only of decimal digits is ambiguous (it may be hex); the exact form is
// tried first, so a conversion only matches when the exact form is absent.
std::string canonical_message_id(std::string_view id);
// The same without allocating: written into `buffer`, which the result points into. An id
// longer than the buffer (never an SMPP message_id, at most 64 characters) is cut.
using CanonicalIdBuffer = std::array<char, 80>;
std::string_view canonical_message_id(std::string_view id, CanonicalIdBuffer& buffer);

// Kept inline (no allocation): matching a receipt by conversion is on the message path.
class MessageIdKeys {
 public:
  static constexpr std::size_t kMax = 3;
  std::size_t size() const { return count_; }
  std::string_view operator[](std::size_t i) const { return {keys_[i].data(), sizes_[i]}; }
  bool contains(std::string_view key) const;
  void add(std::string_view key);

  struct Iterator {
    const MessageIdKeys* keys;
    std::size_t i;
    std::string_view operator*() const { return (*keys)[i]; }
    Iterator& operator++() {
      ++i;
      return *this;
    }
    bool operator!=(const Iterator& other) const { return i != other.i; }
  };
  Iterator begin() const { return {this, 0}; }
  Iterator end() const { return {this, count_}; }

 private:
  std::array<CanonicalIdBuffer, kMax> keys_{};
  std::array<uint8_t, kMax> sizes_{};
  std::size_t count_ = 0;
};
MessageIdKeys message_id_keys(std::string_view id);

// True when the two ids name the same message under the rule above (one's canonical form is
// among the other's keys, either way round).
bool message_ids_match(std::string_view a, std::string_view b);

}  // namespace smpp
