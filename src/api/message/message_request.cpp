#include "api/message/message_request.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <utility>

#include <boost/json/parser.hpp>
#include <boost/json/value.hpp>

#include "api/message/decoding.hpp"
#include "core/utf8.hpp"
#include "smpp/segment.hpp"
#include "smpp/text.hpp"

namespace smppd::api {

namespace {

namespace json = boost::json;
using std::chrono::sys_seconds;

constexpr std::size_t kMaxNumberDigits = 20;         // source_addr/destination_addr: 20 octets
constexpr std::size_t kMaxAlphanumericSeptets = 11;  // TP-OA holds 11 packed septets
constexpr std::size_t kMaxOnePartOctets = 140;       // TP-UD of one SMS, UDH included
// No text that fits in N parts has more than 320 UTF-8 bytes a part (160 two-byte GSM
// characters such as 'é'), so a longer one is refused before it is encoded.
constexpr std::size_t kMaxUtf8BytesPerPart = 320;
constexpr std::chrono::seconds kMaxValidity = std::chrono::days(30);
constexpr std::chrono::seconds kMaxScheduleAhead = std::chrono::days(365);
constexpr std::size_t kMaxUrlLength = 2048;
constexpr std::size_t kMaxClientRefLength = 64;
// A batch item's "to" array is at depth 4; anything deeper is not a request.
constexpr std::size_t kMaxJsonDepth = 8;

constexpr std::array kKnownKeys = {
    "to",       "from",     "text",         "binary",    "udh", "encoding", "registered_delivery",
    "validity", "schedule", "callback_url", "client_ref"};

enum class Encoding : uint8_t { automatic, gsm7, ucs2, latin1, binary };

using Error = std::optional<FieldError>;

std::string hex_encode(const std::vector<uint8_t>& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0x0F]);
  }
  return out;
}

// UTC, as parse_rfc3339 reads it back.
std::string rfc3339(sys_seconds t) {
  const auto day = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day ymd(day);
  const std::chrono::hh_mm_ss hms(t - day);
  char out[96];
  std::snprintf(out, sizeof out, "%04d-%02u-%02uT%02ld:%02ld:%02lldZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
                static_cast<long long>(hms.seconds().count()));
  return out;
}

std::string_view view(const json::string& s) {
  return {s.data(), s.size()};
}

bool all_digits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool printable_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c <= 0x7E; });
}

// A value from the body, quoted for an error message: at most 32 bytes, cut on a UTF-8
// boundary, so a long value does not make a long error.
std::string quoted(std::string_view s) {
  constexpr std::size_t kMax = 32;
  if (s.size() <= kMax) return "'" + std::string(s) + "'";
  std::size_t n = kMax;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return "'" + std::string(s.substr(0, n)) + "...'";
}

// "90", with a unit: "90s", "10m", "2h", "1d". One term only; seconds as a bare number come
// as a JSON integer, not a string.
std::optional<std::chrono::seconds> parse_duration(std::string_view s) {
  if (s.size() < 2 || s.size() > 10) return std::nullopt;
  const std::string_view digits = s.substr(0, s.size() - 1);
  if (!all_digits(digits)) return std::nullopt;
  int64_t n = 0;
  for (char c : digits) n = n * 10 + (c - '0');
  switch (s.back()) {
    case 's':
      return std::chrono::seconds(n);
    case 'm':
      return std::chrono::minutes(n);
    case 'h':
      return std::chrono::hours(n);
    case 'd':
      return std::chrono::days(n);
    default:
      return std::nullopt;
  }
}

// RFC 3339 date-time: "2026-12-24T18:00:00Z", "2026-12-24T18:00:00.5+02:00". Fractions of a
// second are dropped (SMPP's tenths are no use to a schedule); a leap second 60 rolls over.
std::optional<sys_seconds> parse_rfc3339(std::string_view s) {
  const auto number = [&s](std::size_t at, std::size_t len) {
    int n = 0;
    for (std::size_t i = at; i < at + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return -1;
      n = n * 10 + (s[i] - '0');
    }
    return n;
  };
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
      s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  const int year = number(0, 4), month = number(5, 2), day = number(8, 2);
  const int hour = number(11, 2), minute = number(14, 2), second = number(17, 2);
  if (year < 0 || month < 0 || day < 0 || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
      second < 0 || second > 60) {
    return std::nullopt;
  }
  std::size_t pos = 19;
  if (s[pos] == '.') {
    const std::size_t start = ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    if (pos == start || pos == s.size()) return std::nullopt;
  }
  int offset_minutes = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    if (pos + 1 != s.size()) return std::nullopt;
  } else if (s[pos] == '+' || s[pos] == '-') {
    if (s.size() - pos != 6 || s[pos + 3] != ':') return std::nullopt;
    const int oh = number(pos + 1, 2), om = number(pos + 4, 2);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return std::nullopt;
    offset_minutes = (s[pos] == '-' ? -1 : 1) * (oh * 60 + om);
  } else {
    return std::nullopt;
  }
  const std::chrono::year_month_day date{std::chrono::year(year),
                                         std::chrono::month(static_cast<unsigned>(month)),
                                         std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok()) return std::nullopt;
  return sys_seconds(std::chrono::sys_days(date)) + std::chrono::hours(hour) +
         std::chrono::minutes(minute) + std::chrono::seconds(second) -
         std::chrono::minutes(offset_minutes);
}

// http(s)://[userinfo@]host[:port][/...], host a name, an IPv4 or a [bracketed IPv6]; no
// spaces, controls or raw non-ASCII (those are percent-encoded in a URL).
bool valid_callback_url(std::string_view url) {
  const auto starts_with_icase = [&url](std::string_view prefix) {
    return url.size() >= prefix.size() &&
           std::equal(prefix.begin(), prefix.end(), url.begin(), [](char a, char b) {
             return a == (b >= 'A' && b <= 'Z' ? static_cast<char>(b - 'A' + 'a') : b);
           });
  };
  if (!printable_ascii(url) || url.find(' ') != std::string_view::npos) return false;
  std::string_view rest;
  if (starts_with_icase("http://")) {
    rest = url.substr(7);
  } else if (starts_with_icase("https://")) {
    rest = url.substr(8);
  } else {
    return false;
  }
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  std::string_view host = authority, port;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return false;
    host = authority.substr(0, close + 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':' || after.size() == 1) return false;
      port = after.substr(1);
    }
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty()) return false;
  }
  if (host.empty() || host == "[]") return false;
  if (!port.empty()) {
    if (port.size() > 5 || !all_digits(port)) return false;
    int number = 0;
    for (char c : port) number = number * 10 + (c - '0');
    if (number < 1 || number > 65535) return false;
  }
  return true;
}

// Reads one message object. `path` is the object's own path ("" or "messages[3]"), which
// prefixes every field named in an error.
class MessageReader {
 public:
  MessageReader(std::string path, sys_seconds now, const MessageLimits& limits)
      : path_(std::move(path)), now_(now), limits_(limits) {}

  MessageResult read(const json::value& body) const {
    const json::object* obj = body.if_object();
    if (!obj) return error("", "expected a JSON object");
    for (const auto& kv : *obj) {
      const std::string_view key = kv.key();
      if (std::find(kKnownKeys.begin(), kKnownKeys.end(), key) == kKnownKeys.end()) {
        return error(key, "unknown field");
      }
    }
    MessageRequest m;
    const json::value* to = obj->if_contains("to");
    if (!to) return error("to", "required");
    if (auto e = read_to(*to, m.to)) return *e;
    m.to_was_list = to->is_array();
    const json::value* from = obj->if_contains("from");
    if (!from) return error("from", "required");
    if (auto e = read_from(*from, m.from)) return *e;
    if (auto e = read_content(*obj, m)) return *e;
    if (const json::value* v = obj->if_contains("registered_delivery")) {
      if (!v->is_bool()) return error("registered_delivery", "expected true or false");
      m.registered_delivery = v->get_bool();
    }
    if (auto e = read_times(*obj, m)) return *e;
    if (const json::value* v = obj->if_contains("callback_url")) {
      const json::string* s = v->if_string();
      if (!s) return error("callback_url", "expected a string");
      if (s->size() > kMaxUrlLength) return error("callback_url", "longer than 2048 characters");
      if (!valid_callback_url(view(*s))) {
        return error("callback_url", "expected an http:// or https:// URL with a host");
      }
      m.callback_url = std::string(view(*s));
    }
    if (const json::value* v = obj->if_contains("client_ref")) {
      const json::string* s = v->if_string();
      if (!s) return error("client_ref", "expected a string");
      if (s->empty() || s->size() > kMaxClientRefLength || !printable_ascii(view(*s))) {
        return error("client_ref", "expected 1 to 64 printable ASCII characters");
      }
      m.client_ref = std::string(view(*s));
    }
    return m;
  }

 private:
  FieldError error(std::string_view field, std::string detail) const {
    std::string name = path_;
    if (!name.empty() && !field.empty()) name += '.';
    name += field;
    return {std::move(name), std::move(detail)};
  }

  Error read_to(const json::value& v, std::vector<Address>& out) const {
    const auto one = [&](const json::value& item, std::string_view field) -> Error {
      const json::string* s = item.if_string();
      if (!s) return error(field, "expected a string");
      auto address = parse_phone_number(view(*s));
      if (!address) {
        return error(field, "not a phone number: " + quoted(view(*s)) +
                                " (an optional '+' and 1 to 20 digits)");
      }
      out.push_back(std::move(*address));
      return {};
    };
    if (v.is_string()) return one(v, "to");
    const json::array* list = v.if_array();
    if (!list) return error("to", "expected a string or an array of strings");
    if (list->empty()) return error("to", "must not be empty");
    if (list->size() > limits_.max_recipients) {
      return error("to", "at most " + std::to_string(limits_.max_recipients) + " recipients, got " +
                             std::to_string(list->size()));
    }
    out.reserve(list->size());
    for (std::size_t i = 0; i < list->size(); ++i) {
      if (auto e = one((*list)[i], "to[" + std::to_string(i) + "]")) return e;
    }
    return {};
  }

  Error read_from(const json::value& v, Address& out) const {
    const json::string* s = v.if_string();
    if (!s) return error("from", "expected a string");
    auto sender = parse_sender(view(*s));
    if (auto* why = std::get_if<std::string>(&sender)) return error("from", std::move(*why));
    out = std::move(std::get<Address>(sender));
    return {};
  }

  Error read_content(const json::object& obj, MessageRequest& m) const {
    Encoding encoding = Encoding::automatic;
    if (const json::value* v = obj.if_contains("encoding")) {
      static constexpr std::array<std::pair<std::string_view, Encoding>, 5> kNames = {{
          {"auto", Encoding::automatic},
          {"gsm7", Encoding::gsm7},
          {"ucs2", Encoding::ucs2},
          {"latin1", Encoding::latin1},
          {"binary", Encoding::binary},
      }};
      const json::string* s = v->if_string();
      const auto it = s ? std::find_if(kNames.begin(), kNames.end(),
                                       [&](const auto& n) { return n.first == view(*s); })
                        : kNames.end();
      if (it == kNames.end()) {
        return error("encoding", "expected one of auto, gsm7, ucs2, latin1, binary");
      }
      encoding = it->second;
    }
    const json::value* text = obj.if_contains("text");
    const json::value* binary = obj.if_contains("binary");
    const json::value* udh = obj.if_contains("udh");
    if (text && binary) return error("binary", "give text or binary, not both");
    if (!text && !binary) return error("text", "required (or binary)");
    if (text) {
      if (udh) return error("udh", "only allowed with binary");
      if (encoding == Encoding::binary) {
        return error("encoding", "\"binary\" goes with the binary field (hex), not with text");
      }
      return read_text(*text, encoding, m);
    }
    if (encoding != Encoding::automatic && encoding != Encoding::binary) {
      return error("encoding", "binary content is sent as binary: leave encoding out");
    }
    return read_binary(*binary, udh, m);
  }

  Error read_text(const json::value& v, Encoding encoding, MessageRequest& m) const {
    const json::string* s = v.if_string();
    if (!s) return error("text", "expected a string");
    const std::string_view text = view(*s);
    if (text.empty()) return error("text", "must not be empty");
    if (text.size() > std::max<std::size_t>(limits_.max_parts, 1) * kMaxUtf8BytesPerPart) {
      return error("text", "needs more than " + std::to_string(limits_.max_parts) + " parts");
    }
    smpp::EncodedBytes encoded;
    std::string_view name;
    switch (encoding) {
      case Encoding::automatic: {
        smpp::EncodedText e = smpp::encode_text(text);
        m.alphabet = e.alphabet;
        encoded = {std::move(e.bytes), e.error, e.error_offset};
        name = "any alphabet";
        break;
      }
      case Encoding::gsm7:
        m.alphabet = smpp::Alphabet::gsm7;
        encoded = smpp::utf8_to_gsm7(text);
        name = "gsm7";
        break;
      case Encoding::ucs2:
        m.alphabet = smpp::Alphabet::ucs2;
        encoded = smpp::utf8_to_ucs2(text);
        name = "ucs2";
        break;
      case Encoding::latin1:
      case Encoding::binary:  // refused by read_content
        m.alphabet = smpp::Alphabet::latin1;
        encoded = smpp::utf8_to_latin1(text);
        name = "latin1";
        break;
    }
    if (!encoded.ok()) {
      const std::size_t at = std::min(encoded.error_offset, text.size());
      if (encoded.error != smpp::TextError::unmappable) {
        return error("text", "not valid UTF-8 at byte " + std::to_string(at));
      }
      const std::size_t n = std::max<std::size_t>(utf8::sequence_at(text, at), 1);
      return error("text", quoted(text.substr(at, n)) + " (byte " + std::to_string(at) +
                               ") cannot be sent in " + std::string(name));
    }
    m.data_coding = smpp::data_coding_for(m.alphabet);
    m.payload = std::move(encoded.bytes);
    m.text = std::string(text);
    return check_parts("text", m);
  }

  Error read_binary(const json::value& v, const json::value* udh_value, MessageRequest& m) const {
    const json::string* s = v.if_string();
    if (!s) return error("binary", "expected a string of hex digits");
    auto data = hex_decode(view(*s));
    if (!data) return error("binary", "expected an even number of hex digits");
    m.alphabet = smpp::Alphabet::binary;
    m.data_coding = smpp::data_coding_for(smpp::Alphabet::binary);
    m.payload = std::move(*data);
    if (!udh_value) {
      if (m.payload.empty()) return error("binary", "must not be empty");
      return check_parts("binary", m);
    }
    const json::string* u = udh_value->if_string();
    if (!u) return error("udh", "expected a string of hex digits");
    auto udh = hex_decode(view(*u));
    if (!udh) return error("udh", "expected an even number of hex digits");
    if (udh->empty()) return error("udh", "must not be empty");
    if (std::size_t{(*udh)[0]} + 1 != udh->size()) {
      return error("udh", "its length octet says " + std::to_string((*udh)[0]) +
                              " octets follow, there are " + std::to_string(udh->size() - 1));
    }
    if (const smpp::Udh parsed = smpp::parse_udh(*udh); !parsed.ok()) {
      return error("udh", std::string(smpp::to_string(parsed.error)));
    }
    if (udh->size() + m.payload.size() > kMaxOnePartOctets) {
      return error("binary", "with a udh, udh and binary must fit one part: " +
                                 std::to_string(udh->size() + m.payload.size()) +
                                 " octets, at most 140");
    }
    m.udh = std::move(*udh);
    return {};
  }

  Error check_parts(std::string_view field, const MessageRequest& m) const {
    const std::size_t parts = smpp::count_encoded(m.payload, m.alphabet).parts;
    if (parts <= limits_.max_parts) return {};
    return error(field, "needs " + std::to_string(parts) + " parts, at most " +
                            std::to_string(limits_.max_parts));
  }

  Error read_times(const json::object& obj, MessageRequest& m) const {
    if (const json::value* v = obj.if_contains("schedule")) {
      const json::string* s = v->if_string();
      const auto at = s ? parse_rfc3339(view(*s)) : std::nullopt;
      if (!at) return error("schedule", "expected an RFC 3339 time like 2026-12-24T18:00:00Z");
      if (*at <= now_) return error("schedule", "is not in the future");
      if (*at - now_ > kMaxScheduleAhead) return error("schedule", "more than 365 days ahead");
      m.schedule_at = *at;
    }
    if (const json::value* v = obj.if_contains("validity")) {
      std::optional<std::chrono::seconds> validity;
      if (v->is_int64()) {
        validity = std::chrono::seconds(v->get_int64());
      } else if (v->is_uint64()) {
        validity = kMaxValidity + std::chrono::seconds(1);  // above int64: too long anyway
      } else if (const json::string* s = v->if_string()) {
        validity = parse_duration(view(*s));
      }
      if (!validity) {
        return error("validity", "expected seconds or a duration like \"10m\", \"2h\", \"1d\"");
      }
      if (validity->count() <= 0) return error("validity", "must be positive");
      if (*validity > kMaxValidity) return error("validity", "at most 30 days");
      m.expires_at = m.schedule_at.value_or(now_) + *validity;
    }
    return {};
  }

  std::string path_;
  sys_seconds now_;
  const MessageLimits& limits_;
};

std::variant<json::value, FieldError> parse_json(std::string_view body) {
  json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  json::parser parser({}, options);
  boost::system::error_code ec;
  const std::size_t consumed = parser.write(body.data(), body.size(), ec);
  if (ec) {
    return FieldError{"",
                      "malformed JSON at byte " + std::to_string(consumed) + ": " + ec.message()};
  }
  return parser.release();
}

}  // namespace

std::optional<Address> parse_phone_number(std::string_view number) {
  const bool plus = !number.empty() && number.front() == '+';
  const std::string_view digits = plus ? number.substr(1) : number;
  if (digits.empty() || digits.size() > kMaxNumberDigits || !all_digits(digits)) {
    return std::nullopt;
  }
  return Address{std::string(digits), plus ? ton::kInternational : ton::kUnknown, npi::kIsdn};
}

std::variant<Address, std::string> parse_sender(std::string_view from) {
  if (from.empty()) return std::string("must not be empty");
  if (from.front() == '+' || all_digits(from)) {
    if (auto address = parse_phone_number(from)) return std::move(*address);
    return "not a phone number: " + quoted(from) + " (an optional '+' and 1 to 20 digits)";
  }
  if (!printable_ascii(from) || !smpp::fits_gsm7(from)) {
    return "alphanumeric sender " + quoted(from) +
           " may hold only printable ASCII characters of the GSM alphabet";
  }
  // Extension characters ('[', '{', ...) take two septets.
  if (smpp::utf8_to_gsm7(from).bytes.size() > kMaxAlphanumericSeptets) {
    return std::string("alphanumeric sender longer than 11 GSM characters");
  }
  return Address{std::string(from), ton::kAlphanumeric, npi::kUnknown};
}

MessageResult parse_message_request(std::string_view body, sys_seconds now,
                                    const MessageLimits& limits) {
  auto parsed = parse_json(body);
  if (auto* e = std::get_if<FieldError>(&parsed)) return std::move(*e);
  return MessageReader("", now, limits).read(std::get<json::value>(parsed));
}

MessageResult message_from_fields(const MessageFields& f, sys_seconds now,
                                  const MessageLimits& limits, std::string path) {
  // The same reader as the JSON body's: one set of rules and messages for every face.
  json::object o;
  if (f.to_was_list || f.to.size() != 1) {
    json::array to;
    to.reserve(f.to.size());
    for (const std::string& t : f.to) to.emplace_back(t);
    o["to"] = std::move(to);
  } else {
    o["to"] = f.to.front();
  }
  o["from"] = f.from;
  if (f.text) o["text"] = *f.text;
  if (f.binary) o["binary"] = hex_encode(*f.binary);
  if (!f.udh.empty()) o["udh"] = hex_encode(f.udh);
  if (!f.encoding.empty()) o["encoding"] = f.encoding;
  if (f.registered_delivery) o["registered_delivery"] = true;
  if (f.validity_seconds) o["validity"] = *f.validity_seconds;
  if (f.schedule) o["schedule"] = rfc3339(*f.schedule);
  if (!f.callback_url.empty()) o["callback_url"] = f.callback_url;
  if (!f.client_ref.empty()) o["client_ref"] = f.client_ref;
  return MessageReader(std::move(path), now, limits).read(o);
}

std::variant<BatchRequest, FieldError> parse_batch_request(std::string_view body, sys_seconds now,
                                                           const MessageLimits& limits) {
  auto parsed = parse_json(body);
  if (auto* e = std::get_if<FieldError>(&parsed)) return std::move(*e);
  const json::object* obj = std::get<json::value>(parsed).if_object();
  if (!obj) return FieldError{"", "expected a JSON object"};
  for (const auto& kv : *obj) {
    if (kv.key() != "messages") return FieldError{std::string(kv.key()), "unknown field"};
  }
  const json::value* messages = obj->if_contains("messages");
  if (!messages) return FieldError{"messages", "required"};
  const json::array* list = messages->if_array();
  if (!list) return FieldError{"messages", "expected an array of messages"};
  if (list->empty()) return FieldError{"messages", "must not be empty"};
  if (list->size() > limits.max_batch) {
    return FieldError{"messages", "at most " + std::to_string(limits.max_batch) +
                                      " messages, got " + std::to_string(list->size())};
  }
  BatchRequest batch;
  batch.items.reserve(list->size());
  for (std::size_t i = 0; i < list->size(); ++i) {
    batch.items.push_back(
        MessageReader("messages[" + std::to_string(i) + "]", now, limits).read((*list)[i]));
  }
  return batch;
}

}  // namespace smppd::api
