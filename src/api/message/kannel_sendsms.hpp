// Kannel's `GET /cgi-bin/sendsms` request, read as Kannel's smsbox reads it (gw/smsbox.c,
// smsbox_req_sendsms and smsbox_req_handle; ../shared/reference/http-api-compat.md §1), so that
// applications written for Kannel (playSMS, RapidPro's courier...) work unchanged:
//  - the query string is form-decoded ('+' is a space, %XX a byte; a malformed escape is kept
//    as written); names are case-sensitive; the first occurrence of a name wins; unknown names
//    are ignored, as Kannel does;
//  - `username`/`user`, `password`/`pass`, `dlr-mask`/`dlrmask`, `dlr-url`/`dlrurl` are aliases;
//  - integers are read as C's sscanf("%d") reads them (leading spaces, a sign, digits; what
//    follows is ignored); absent or unreadable: -1, "not set";
//  - `to` holds several numbers separated by spaces (so "111+222" is two numbers: a leading '+'
//    must be sent as %2B); each only of "0123456789 +-";
//  - every refusal is Kannel's own status and body, byte for byte, without a trailing newline.
// Pure: no I/O, no clock. The conversion to the request every face sends is in
// kannel_to_request.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "api/message/message_request.hpp"

namespace smppd::api {

struct KannelSendsms {
  std::string username;
  std::string password;
  std::vector<std::string> to;  // as written, each non-empty
  std::optional<std::string> from;
  std::string text;  // the bytes as decoded, in `charset` (or UTF-8 / UTF-16BE by `coding`)
  std::optional<std::string> charset;
  std::vector<uint8_t> udh;  // its length octet included; empty when none
  std::optional<std::string> smsc;
  int mclass = -1;
  int mwi = -1;
  int compress = -1;
  int coding = -1;    // 0: 7-bit, 1: 8-bit, 2: UCS-2; not set: 8-bit with a UDH, else 7-bit
  int validity = -1;  // minutes
  int deferred = -1;  // minutes
  int dlr_mask = -1;
  std::optional<std::string> dlr_url;
  int pid = -1;
  int alt_dcs = -1;
  int rpi = -1;
  int priority = -1;
  std::optional<std::string> account;
  std::optional<std::string> binfo;
  std::optional<std::string> meta_data;
};

// A refusal as Kannel answers it.
struct KannelRefusal {
  unsigned status = 400;
  std::string body;  // exact, no newline
  friend bool operator==(const KannelRefusal&, const KannelRefusal&) = default;
};

// Kannel's answers, exactly.
inline constexpr std::string_view kKannelAccepted = "0: Accepted for delivery";             // 202
inline constexpr std::string_view kKannelQueued = "3: Queued for later delivery";           // 202
inline constexpr std::string_view kKannelAuthFailed = "Authorization failed for sendsms";   // 403
inline constexpr std::string_view kKannelNotRoutable = "Not routable. Do not try again.";   // 403
inline constexpr std::string_view kKannelTemporary = "Temporal failure, try again later.";  // 503

// The query string after '?'. Credentials are not checked here (the caller knows the clients);
// the fields are, in Kannel's order.
std::variant<KannelSendsms, KannelRefusal> parse_kannel_sendsms(std::string_view query);

// The checks Kannel's smsbox_req_handle makes, in its order, on what either sendsms read (the
// GET query or a POST, kannel_post.hpp): the UDH's length octet and size, a recipient left, a
// sender, then account, dlr-url, dlr-mask, mclass, pid, rpi, alt-dcs, mwi, coding, compress,
// validity, deferred and priority. What Kannel treats as not given (an empty account, binfo or
// dlr-url) is made so.
std::optional<KannelRefusal> check_kannel_sendsms(KannelSendsms& k);

// The request every face hands to the gateway: numbers and sender as api::Address (a leading
// '+' or "00" is international), the text decoded from its charset and encoded as `coding`
// says (7-bit: GSM 03.38, a character outside it refused; 8-bit: the bytes as they are, with
// the UDH; UCS-2: UTF-16BE), validity and deferred (schedule) from `now`, registered delivery
// when dlr-mask asks for a final state (1 or 2), priority as submit_sm's priority_flag. Refusals
// are Kannel's bodies.
std::variant<MessageRequest, KannelRefusal> kannel_to_request(const KannelSendsms& k,
                                                              std::chrono::sys_seconds now);

}  // namespace smppd::api
