// Kannel's `POST /cgi-bin/sendsms`, read as Kannel's smsbox reads it (gw/smsbox.c,
// smsbox_sendsms_post, get_x_kannel_from_headers and get_x_kannel_from_xml;
// ../shared/reference/http-api-compat.md §1.4) into the KannelSendsms the GET parser gives, so
// that kannel_to_request serves both. Kannel reads a POST by its Content-Type (the first such
// header; no header at all is application/octet-stream):
//  - text/plain and application/octet-stream: the body is the text, in the Content-Type's
//    charset; every field is an X-Kannel-* header (names in any case; the last one of a name
//    wins; values stripped of white space; integers read as sscanf("%d"), a header it cannot
//    read leaving the field as it was). X-Kannel-UDH is hex, else URL-encoded. Without
//    X-Kannel-Coding, text/plain is 7-bit and octet-stream 8-bit. There is no user/pass alias.
//  - text/html and text/vnd.wap.wml: read as above, then refused (415) once the credentials
//    and the recipients are.
//  - text/xml: the <message><submit> document of the user guide's "XML Post": credentials in
//    <from> (<user> or <username>, <pass> or <password>, the second spelling winning), one
//    recipient per <da><number> text (several allowed; a number is not split on spaces), <ud>
//    URL-decoded or, with type="binary", hex; numbers read as XPath numbers and cast to int as
//    C does on x86 (a blank or non-numeric <coding/> is INT_MIN, so refused); the charset is the
//    XML declaration's encoding, UTF-8 without one. A document that does not parse gives
//    nothing, so Kannel refuses it for its missing credentials. Read by xml_reader.hpp: no DTD.
//  - anything else (a form, JSON, application/xml): 400 "Invalid content-type".
// Pure: no I/O, no clock, no exceptions.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "api/message/kannel_sendsms.hpp"

namespace smppd::api {

// A request header field: name (any case) and value, as received.
using HeaderField = std::pair<std::string_view, std::string_view>;

struct KannelPost {
  // The credentials, which Kannel checks before anything else it says below: not given (no
  // header or element, or an XML body that does not parse) is refused as a wrong one, 403
  // kKannelAuthFailed.
  std::optional<std::string> username;
  std::optional<std::string> password;
  // Once they are accepted: the request (KannelSendsms::username/password hold them too), or
  // Kannel's refusal: 400 "Missing receiver(s) number(s), rejected", "Empty receiver number not
  // allowed, rejected", 415 "Unsupported content-type, rejected", and check_kannel_sendsms's.
  std::variant<KannelSendsms, KannelRefusal> outcome;
};

inline constexpr std::string_view kKannelInvalidContentType = "Invalid content-type";  // 400

// `headers`: every header field of the request, in order. A refusal here is the one Kannel
// gives before it looks at the credentials: 400 kKannelInvalidContentType.
std::variant<KannelPost, KannelRefusal> parse_kannel_post(std::span<const HeaderField> headers,
                                                          std::string_view body);

}  // namespace smppd::api
