// The body of `POST /v1/messages` and `POST /v1/messages/batch`, parsed and validated into a
// typed request that every face (HTTP now, gRPC later) hands to the gateway. Pure: no I/O, no
// clock (the caller passes `now`), no exceptions; every problem is a FieldError value naming
// the JSON path of the offending field, which the HTTP face turns into a 400.
//
// One message:
//   {"to": "+258841234567" | ["+258841234567", "841234568"],   1..max_recipients numbers
//    "from": "MYAPP" | "+258840000000" | "12345",
//    "text": "Hello"  |  "binary": "48656c6c6f", "udh": "0504158a0000",
//    "encoding": "auto" | "gsm7" | "ucs2" | "latin1" | "binary",
//    "registered_delivery": true, "validity": 3600 | "10m" | "2h" | "1d",
//    "schedule": "2026-12-24T18:00:00+02:00", "callback_url": "https://...", "client_ref": "..."}
//
// Decisions a client will notice:
// - Strict: an unknown key is an error naming it, so a misspelt "registred_delivery" is not
//   silently dropped. (A key given twice: the last one counts, as Boost.JSON keeps it.)
// - Types are strict too: "registered_delivery" is true or false, not 0/1 or "yes"; one
//   spelling per value keeps the gRPC face and the docs simple.
// - Numbers are an optional '+' and 1..20 digits, nothing else: "+1 (555) 010-9999" is refused
//   rather than guessed at, since a wrong guess delivers to someone else. '+' means TON
//   international (1); without it TON unknown (0), letting the SMSC apply its numbering plan.
//   NPI is ISDN/E.164 (1) either way.
// - A sender of digits is numeric (short codes and long numbers alike: TON 0 without '+', 1
//   with it); anything else is alphanumeric (TON 5, NPI 0): at most 11 GSM septets of
//   printable ASCII, since source_addr is a C-octet string SMSCs read as ASCII.
// - The text is encoded here, once: "auto" takes GSM 03.38 when every character is in it, else
//   UCS-2 (Latin-1 only when asked for: many handsets and SMSCs mishandle data_coding 3).
// - "udh" (hex, its length octet included) goes only with "binary", and the two must then fit
//   one part (140 octets): a caller who builds its own UDH is doing its own concatenation.
// - "validity" is 1 s .. 30 days and counts from `schedule` when there is one, else from `now`;
//   "schedule" must be after `now` and at most 365 days ahead. Both become absolute instants.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "smpp/coding.hpp"

namespace smppd::api {

// A validation failure. `field` is the JSON path from the body's root ("to[3]",
// "messages[2].text"), empty for a body that is not JSON at all.
struct FieldError {
  std::string field;
  std::string detail;
  friend bool operator==(const FieldError&, const FieldError&) = default;
};

namespace ton {
inline constexpr uint8_t kUnknown = 0;
inline constexpr uint8_t kInternational = 1;
inline constexpr uint8_t kAlphanumeric = 5;
}  // namespace ton
namespace npi {
inline constexpr uint8_t kUnknown = 0;
inline constexpr uint8_t kIsdn = 1;
}  // namespace npi

// An address as SMPP carries it: `value` without the '+', which TON records.
struct Address {
  std::string value;
  uint8_t ton = ton::kUnknown;
  uint8_t npi = npi::kIsdn;
  friend bool operator==(const Address&, const Address&) = default;
};

struct MessageLimits {
  std::size_t max_recipients = 1000;  // per message
  std::size_t max_batch = 1000;       // messages per batch
  std::size_t max_parts = 10;         // parts of one message (counted with an 8-bit UDH)
};

struct MessageRequest {
  std::vector<Address> to;   // 1..max_recipients, in the order given (duplicates kept)
  bool to_was_list = false;  // `to` was an array (answered per recipient, even with one)
  Address from;
  // The content, already encoded: `payload` is what goes after any UDH (one octet per GSM
  // septet, UTF-16BE, Latin-1 or raw octets), `data_coding` announces `alphabet`.
  smpp::Alphabet alphabet = smpp::Alphabet::gsm7;
  uint8_t data_coding = 0;
  std::vector<uint8_t> payload;
  std::vector<uint8_t> udh;         // binary only, UDHL included; empty when none
  std::optional<std::string> text;  // the text as given (for the store and logs); none if binary
  bool registered_delivery = false;
  uint8_t priority_flag = 0;  // submit_sm's priority_flag, 0-3 (the JSON body does not set it)
  // What the compatibility faces carry beyond the JSON body: Kannel's binfo, pid and rpi.
  std::string service_type;  // at most 5 characters
  uint8_t protocol_id = 0;
  bool reply_path = false;  // esm_class 0x80
  std::optional<std::chrono::sys_seconds> schedule_at;
  std::optional<std::chrono::sys_seconds> expires_at;  // from "validity"
  std::optional<std::string> callback_url;
  std::optional<std::string> client_ref;
};

using MessageResult = std::variant<MessageRequest, FieldError>;

// A recipient as every face reads one: an optional '+' (TON international, else unknown) and 1
// to 20 digits, NPI ISDN. Nothing for anything else.
std::optional<Address> parse_phone_number(std::string_view number);

// A sender as every face reads one: a number as above when it starts with '+' or is all digits;
// otherwise an alphanumeric name (TON 5, NPI 0) of printable ASCII characters of the GSM
// alphabet, at most 11 septets. When it is neither, why, worded for an error message
// ("must not be empty", "alphanumeric sender longer than 11 GSM characters"...).
std::variant<Address, std::string> parse_sender(std::string_view sender);

// `POST /v1/messages`. `now` is the instant the request is accepted: schedules must be after
// it and validity counts from it.
MessageResult parse_message_request(std::string_view body, std::chrono::sys_seconds now,
                                    const MessageLimits& limits = {});

// A message as a typed face (gRPC) gives it: the JSON body's fields as values, checked by the
// same rules with the same field names in errors (`path` prefixes them: "messages[2]").
struct MessageFields {
  std::vector<std::string> to;
  bool to_was_list = false;
  std::string from;
  std::optional<std::string> text;
  std::optional<std::vector<uint8_t>> binary;
  std::vector<uint8_t> udh;  // with binary only; empty: none
  std::string encoding;      // "", "auto", "gsm7", "ucs2", "latin1", "binary"
  bool registered_delivery = false;
  std::optional<int64_t> validity_seconds;
  std::optional<std::chrono::sys_seconds> schedule;
  std::string callback_url;  // empty: none
  std::string client_ref;    // empty: none
};
MessageResult message_from_fields(const MessageFields& fields, std::chrono::sys_seconds now,
                                  const MessageLimits& limits = {}, std::string path = {});

// `POST /v1/messages/batch`: {"messages": [ {...}, ... ]}, 1..max_batch items. Each item is
// parsed on its own (its errors are named "messages[i]...." and fail only that item); a body
// whose envelope is bad is one FieldError.
struct BatchRequest {
  std::vector<MessageResult> items;  // in the order given
};
std::variant<BatchRequest, FieldError> parse_batch_request(std::string_view body,
                                                           std::chrono::sys_seconds now,
                                                           const MessageLimits& limits = {});

}  // namespace smppd::api
