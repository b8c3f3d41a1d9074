// What smppd's HTTP callbacks say, in the three forms clients expect: smppd's own JSON (signed
// with HMAC-SHA256), Kannel's dlr-url with its % escapes (a GET), and Jasmin's DLR fields (a
// form, GET or POST). Pure: no I/O, no clock (times are passed in); the receipts and MO come
// from SMSCs, so everything read from them is bounded and never trusted.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "smpp/pdu.hpp"
#include "smpp/receipt.hpp"

namespace smppd::callbacks {

using Fields = std::vector<std::pair<std::string, std::string>>;

// A receipt as a callback tells it: read from the deliver_sm / data_sm that goes to the client
// (its id already the client's).
struct ReceiptFacts {
  std::string message_id;  // the client's id of the message
  std::string to;          // the handset (the receipt's source_addr)
  std::string from;        // the message's sender (the receipt's destination_addr)
  smpp::MessageState state = smpp::MessageState::unknown;
  bool final = false;
  std::string stat;  // DELIVRD, UNDELIV... (from the state when the text had none)
  std::string err;   // "000"
  std::string sub;
  std::string dlvrd;
  std::string submit_date;  // as the SMSC wrote them
  std::string done_date;
  std::string text;          // the receipt's text: field
  std::string receipt_text;  // the whole Appendix B text, as Kannel's %A gives it
  int64_t submit_unix = 0;   // 0 when the date is missing or not a date
  int64_t done_unix = 0;
};
std::optional<ReceiptFacts> receipt_facts(const smpp::Pdu& pdu);

// An MO message as a callback tells it (long MO already joined).
struct MoFacts {
  std::string from;
  std::string to;
  uint8_t data_coding = 0;
  std::vector<uint8_t> payload;  // without UDH
  std::optional<std::string> text;  // UTF-8, when data_coding is a text coding and it decodes
  std::string upstream;
  int64_t received_unix_ms = 0;
  unsigned parts = 1;
  bool incomplete = false;  // parts missing: what came, in order
};
// The text of `payload` by its data_coding (none for binary or undecodable content).
std::optional<std::string> mo_text(const std::vector<uint8_t>& payload, uint8_t data_coding);

// smppd's JSON bodies.
std::string receipt_json(const ReceiptFacts& r, std::string_view client_ref,
                         std::string_view smsc_id, std::string_view upstream);
std::string mo_json(const MoFacts& m);

// "YYYY-MM-DDTHH:MM:SSZ" (milliseconds are dropped).
std::string iso8601_utc(int64_t unix_seconds);

// A random (version 4) UUID, "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx": Kannel's %I, Jasmin's batch
// ids.
std::string random_uuid();

// HMAC-SHA256 of `data` with `key`, in lower-case hex.
std::string hmac_sha256_hex(std::string_view key, std::string_view data);
// What X-Smppd-Signature says: "sha256=" + hmac(secret, timestamp + "." + body).
std::string signature(std::string_view secret, int64_t timestamp, std::string_view body);

// Percent-encoding as Kannel's octstr_url_encode does it: alphanumerics and "-_.!~*'()" as
// they are, a space as '+', every other octet %XX.
std::string url_encode(std::string_view v);
// application/x-www-form-urlencoded.
std::string form_encode(const Fields& fields);
// `url` with `query` added ('?' or '&').
std::string with_query(std::string_view url, std::string_view query);

// Kannel's DLR types (%d): 1 delivered, 2 not delivered, 4 buffered (intermediate), 8 SMSC
// accepted, 16 SMSC refused. An EXPIRED receipt is 2 (Kannel's SMPP driver may say 34;
// RapidPro's courier, for one, knows only 1 2 4 8 16).
int kannel_dlr_type(smpp::MessageState state, bool final);

// What Kannel's escapes are filled with for one DLR.
struct KannelDlr {
  int type = 0;              // %d
  std::string data;          // %A (and the words of %k %s %S %r %a, %b)
  std::string receiver;      // %p: the handset
  std::string sender;        // %P: the message's sender
  std::string smsc;          // %i: the upstream
  std::string smsc_id;       // %F: the SMSC's message id
  std::string err;           // %B: the receipt's err
  std::string username;      // %n
  std::string account;       // %o
  std::string meta;          // %D
  std::string uuid;          // %I
  std::string dlr_url;       // %R
  int64_t unix_seconds = 0;  // %t %T
};
// `pattern` with Kannel's escapes filled in (urltrans_fill_escape_codes): values URL-encoded
// (but %S), "%%" a '%', an escape it does not know copied through as written.
std::string kannel_expand(std::string_view pattern, const KannelDlr& d);

// Jasmin's DLR fields: level 1 (the SMSC's answer) and level 2 (the receipt).
Fields jasmin_level1(std::string_view id, std::string_view status_name,
                     std::string_view connector);
Fields jasmin_level2(std::string_view id, std::string_view smsc_id, const ReceiptFacts& r,
                     std::string_view connector);
// Jasmin's acknowledgement: a status below 400 and "ACK/Jasmin" (spaces around ignored).
bool jasmin_acknowledged(unsigned status, std::string_view body);

}  // namespace smppd::callbacks
