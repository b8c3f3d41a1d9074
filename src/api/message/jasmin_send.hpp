// Jasmin's HTTP API (`/send`, `/rate`, `/balance`, port 1401) and its REST API's bodies
// (`/secure/send`, `/secure/sendbatch`), read as Jasmin reads them
// (jasmin/protocols/http/endpoints/*.py, validation.py, rest/api.py;
// ../shared/reference/http-api-compat.md §2), so that applications written for Jasmin (RapidPro's
// courier...) work unchanged.
//
// The arguments are Twisted's request.args: a query string, and for a POST a form body, then
// (Content-Type exactly "application/json") a JSON object's keys; one value a name, the first of
// a form source, a later source's in its place. parse_jasmin_send then does what Jasmin's
// /send does before it authenticates and routes:
//  - defaults: coding 0; dlr "yes" as soon as dlr-url or dlr-level is there (whatever dlr says),
//    else "no"; with dlr=yes, dlr-level 1 and dlr-method POST; dlr-method upper-cased;
//  - the table of send.py, in Jasmin's order: an unknown name is 400 `Argument [x] is unknown.`
//    (the first name is looked at before the fields, the others after them, as Jasmin's loop
//    does), a value that does not match its pattern `Argument [x] has an invalid value: [v].`,
//    a missing to/username/password `Mandatory argument [x] is not found.`; patterns are
//    Python's `re.match` on bytes, whose `$` also matches before one final newline (such a
//    newline is then dropped from the value, except from the credentials);
//  - exactly one of content and hex-content; hex-content is hex (`Invalid hex-content data:
//    'b'…''`, Python's repr of the bytes, as Jasmin formats it);
//  - every refusal is 400 with the body `Error "<message>"` (no newline).
// Where Jasmin itself would fail with an unhandled exception (a 500 `Unknown error: <Python's
// text>`: a JSON array, object or null as a value, content that is not UTF-8 with coding 0, an
// sdt that names no date), smppd answers 400 `Argument [x] has an invalid value: [v].` instead:
// the request is at fault, and it gets Jasmin's own sentence for it. `custom_tlvs` (Jasmin's
// master branch, not 0.11) is an unknown argument: smppd would not send the TLVs.
//
// Credentials, routing and charging are the caller's (Jasmin answers them after these checks).
// Pure: no I/O, no clock (`now` is passed), no exceptions.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "api/message/message_request.hpp"

namespace smppd::api {

struct JasminArg {
  std::string name;
  // The bytes; a JSON number or boolean as Python's str() writes it ("12", "1.5", "True").
  std::string value;
  // A JSON array, object or null, which no argument takes (`value` is Python's str() of it).
  bool structured = false;
  friend bool operator==(const JasminArg&, const JasminArg&) = default;
};

// Twisted's request.args as Jasmin reads it: (name, value) pairs in the order the names came,
// one value a name.
class JasminArgs {
 public:
  const std::vector<JasminArg>& items() const { return items_; }
  bool empty() const { return items_.empty(); }
  std::size_t size() const { return items_.size(); }
  const JasminArg* find(std::string_view name) const;
  // args[name] = [value]: a name already there takes the value in its place, a new one goes last.
  void set(std::string name, std::string value, bool structured = false);
  // dict.update(other): set() of each of other's pairs, in order.
  void update(const JasminArgs& other);

 private:
  std::vector<JasminArg> items_;
  std::unordered_map<std::string, std::size_t> index_;
};

// One form-encoded source, a query string or an application/x-www-form-urlencoded body, as
// Twisted's parse_qs reads it: pairs separated by '&' or ';', a pair without '=' ignored, '+'
// and %XX decoded (a '%' without two hex digits kept), blank values kept; of a name given twice,
// the first value.
JasminArgs parse_jasmin_form(std::string_view form);

// Several sources merged as Twisted merges them: the query's, then the POST body's; a name
// already there takes the later source's value (dict.update).
JasminArgs merge_jasmin_args(std::span<const JasminArgs> sources);

// Jasmin's /send reads a JSON body only when the Content-Type is exactly this ("application/json;
// charset=utf-8" is not).
inline bool is_jasmin_json(std::string_view content_type) {
  return content_type == "application/json";
}

// A refusal as Jasmin answers it.
struct JasminRefusal {
  unsigned status = 400;
  // Exactly what Jasmin writes: `Error "<message>"` for /send, a JSON string (Python's
  // json.dumps) for /rate and /balance, a JSON object for the REST API's own refusals.
  std::string body;
  std::string message;  // the message alone (for logs, and to answer it another way)
  friend bool operator==(const JasminRefusal&, const JasminRefusal&) = default;
};

// The keys of a JSON object body set into `args` (args[key] = [value]), as /send does with
// Content-Type application/json: strings as their UTF-8 bytes, numbers and booleans as Python's
// str() writes them, arrays, objects and null kept as structured (refused as values later). A
// body that is not a JSON object: 400 `Error "Invalid JSON body: ..."` (Jasmin: a 500).
std::optional<JasminRefusal> merge_jasmin_json(JasminArgs& args, std::string_view body);

struct JasminSend {
  std::string username;  // as given, 1-16 bytes
  std::string password;
  std::string to;  // an optional '+' and digits: one address
  std::optional<std::string> from;
  int coding = 0;                              // 0-10, 13, 14: the data_coding
  std::optional<int> priority;                 // 0-3: priority_flag
  std::optional<std::string> sdt;              // an SMPP time, 16 characters
  std::optional<std::string> validity_period;  // minutes: the digits as given
  // The receipt the caller is asked to call back with (dlr-url, -level, -method): with dlr,
  // level 1 (the SMSC's answer), 2 (the handset's receipt) or 3 (both), method "GET" or
  // "POST"; without a dlr-url there is no callback though dlr is set.
  bool dlr = false;
  int dlr_level = 0;  // 0 without dlr
  std::optional<std::string> dlr_url;
  std::string dlr_method;         // empty without dlr
  std::vector<std::string> tags;  // split on ',' as Python splits ("" is one empty tag)
  std::string content;            // the bytes to send: content as given, or hex-content decoded
  bool hex_content = false;
  friend bool operator==(const JasminSend&, const JasminSend&) = default;
};

std::variant<JasminSend, JasminRefusal> parse_jasmin_send(const JasminArgs& args);

// The request every face hands to the gateway:
//  - coding 0 with content: the UTF-8 text in GSM 03.38, a character outside it '?' (Python's
//    encode('gsm0338', 'replace')); any other coding, or hex-content: the bytes as they are with
//    data_coding = coding (8 is UCS-2: the client sends UTF-16BE, as Jasmin requires);
//  - to and from as parse_phone_number and parse_sender read them (a leading '+' is TON
//    international); no from: an empty sender (the SMSC's default, or the caller's);
//  - priority as priority_flag; validity-period minutes from `now` as expires_at; sdt, absolute
//    or relative ('R') to `now`, as schedule_at when it is after `now`;
//  - registered_delivery when dlr is set at level 2 or 3 (level 1 needs only the SMSC's answer).
// The callback (dlr_url...) is left to the caller, which knows how to call back as Jasmin does.
// Refusals: 400 `Argument [x] has an invalid value: [v].` for what SMPP cannot carry (a number
// of more than 20 digits, an alphanumeric sender beyond 11 GSM characters, content that is not
// UTF-8 with coding 0, an sdt that names no date, a time past 2099).
std::variant<MessageRequest, JasminRefusal> jasmin_to_request(const JasminSend& send,
                                                              std::chrono::sys_seconds now);

// `/rate` (GET): /send's arguments without dlr*, sdt (and custom_tlvs); content is optional
// (empty by default). Refusals are JSON strings (`"Argument [dlr] is unknown."`). The result
// has dlr off, for jasmin_to_request to count the parts.
std::variant<JasminSend, JasminRefusal> parse_jasmin_rate(const JasminArgs& args);

// `/balance` (GET): username and password only; no argument at all is `"Mandatory arguments
// not found, please refer to the HTTPAPI specifications."`. Refusals are JSON strings.
struct JasminCredentials {
  std::string username;
  std::string password;
  friend bool operator==(const JasminCredentials&, const JasminCredentials&) = default;
};
std::variant<JasminCredentials, JasminRefusal> parse_jasmin_balance(const JasminArgs& args);

// `Success "<id>"`, /send's answer (200).
std::string jasmin_success(std::string_view id);

// Python's json.dumps of a string (ASCII only: others as \uXXXX), bytes that are not UTF-8 as
// U+FFFD. /rate's and /balance's refusals are this.
std::string jasmin_json_string(std::string_view text);

// ---- the REST API (Falcon; the credentials come from its Basic authentication) ----

// `POST /secure/send`: the JSON object's keys, '_' turned into '-', with the Basic credentials
// over any username/password in it, encoded as the REST API sends them on to /send (Python
// requests' query encoding: a list gives its first item, null is left out, numbers and booleans
// as str()): so `"to": ["1", "2"]` sends to 1 only, as Jasmin does. A body that does not parse
// (or is not an object): 412 {"title": "Cannot parse JSON data", "description": "Got
// unparseable json data: b'...'"}.
std::variant<JasminArgs, JasminRefusal> jasmin_rest_send_args(std::string_view body,
                                                              std::string_view username,
                                                              std::string_view password);

// The REST API's answer to what the HTTP API answered (status, body): 200 {"data": "Success
// \"<id>"} (the body stripped of '"' at both ends, which drops the closing quote, as Jasmin
// does) or {"data": {...}} for a JSON body with a '{'; any other status {"message": "Error
// \"..."}, with that status.
std::string jasmin_rest_answer(unsigned status, std::string_view http_api_body);

struct JasminBatchLimits {
  std::size_t max_messages = 10'000;  // after `to` lists are expanded
  std::size_t max_bytes = 32u << 20;  // of all the messages' arguments together
};

struct JasminBatch {
  // One /send request a recipient, in order: the Basic credentials, then globals, then the
  // message's keys ('_' turned into '-'), `to` one of its list; messages without `to` or
  // without content/hex-content left out, as Jasmin does. Each goes to parse_jasmin_send; its
  // outcome is reported to callback_url or errback_url.
  std::vector<JasminArgs> messages;
  std::optional<std::string> callback_url;
  std::optional<std::string> errback_url;
  std::chrono::seconds delay{0};         // from batch_config.schedule_at; 0: now
  std::optional<std::string> scheduled;  // the answer's "scheduled" ("3600s", "3600.0s")
};

// `POST /secure/sendbatch`. schedule_at is "YYYY-MM-DD HH:MM:SS" (read as Python's strptime
// reads it, in UTC: smppd's clock) or "<n>s"; one in the past, or in neither form, is 412 with
// Falcon's {"title": ..., "description": ...} as Jasmin words it. A body that does not parse:
// 412 as jasmin_rest_send_args; one whose globals, messages or batch_config have the wrong
// shape: 400 (Jasmin: a 500); beyond `limits`: 413.
std::variant<JasminBatch, JasminRefusal> parse_jasmin_batch(std::string_view body,
                                                            std::string_view username,
                                                            std::string_view password,
                                                            std::chrono::sys_seconds now,
                                                            const JasminBatchLimits& limits = {});

// {"data": {"batchId": "<id>", "messageCount": N[, "scheduled": "..."]}}
std::string jasmin_batch_answer(std::string_view batch_id, const JasminBatch& batch);

}  // namespace smppd::api
