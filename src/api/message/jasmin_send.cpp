#include "api/message/jasmin_send.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <utility>

#include <boost/json/parser.hpp>
#include <boost/json/value.hpp>

#include "api/message/decoding.hpp"
#include "core/utf8.hpp"
#include "smpp/text.hpp"
#include "smpp/time.hpp"

namespace smppd::api {

namespace {

namespace json = boost::json;
using std::chrono::sys_seconds;

// Arrays and objects nest this deep at most in a body Jasmin reads (a batch's messages[i].to[j]
// is at depth 4).
constexpr std::size_t kMaxJsonDepth = 16;
// The last instant an SMPP absolute time (two-digit year, 20YY) can name.
constexpr sys_seconds kLastSmppTime{std::chrono::seconds(4'102'444'799)};  // 2099-12-31 23:59:59

std::string_view view(const json::string& s) {
  return {s.data(), s.size()};
}

// ---- Python's spellings ----

// repr(float), Python 3: the shortest digits that read back the same; fixed notation between
// 1e-4 and 1e16, exponent notation ("1e+16", "1.5e-05") outside; "1.0" for a whole number.
std::string py_float(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  std::array<char, 64> buf{};
  const auto r =
      std::to_chars(buf.data(), buf.data() + buf.size(), d, std::chars_format::scientific);
  std::string_view s(buf.data(), static_cast<std::size_t>(r.ptr - buf.data()));
  std::string out;
  if (s.starts_with('-')) {
    out += '-';
    s.remove_prefix(1);
  }
  const std::size_t e = s.find('e');
  std::string digits;
  for (char c : s.substr(0, e)) {
    if (c != '.') digits += c;
  }
  std::string_view exponent_text = s.substr(e + 1);
  if (exponent_text.starts_with('+')) exponent_text.remove_prefix(1);
  int exponent = 0;
  std::from_chars(exponent_text.data(), exponent_text.data() + exponent_text.size(), exponent);
  const int point = exponent + 1;  // digits before the decimal point
  if (point > -4 && point <= 16) {
    const auto n = static_cast<int>(digits.size());
    if (point <= 0) {
      out += "0." + std::string(static_cast<std::size_t>(-point), '0') + digits;
    } else if (point >= n) {
      out += digits + std::string(static_cast<std::size_t>(point - n), '0') + ".0";
    } else {
      out += digits.substr(0, static_cast<std::size_t>(point)) + "." +
             digits.substr(static_cast<std::size_t>(point));
    }
    return out;
  }
  out += digits[0];
  if (digits.size() > 1) out += "." + digits.substr(1);
  out += exponent < 0 ? "e-" : "e+";
  const int magnitude = exponent < 0 ? -exponent : exponent;
  if (magnitude < 10) out += '0';
  out += std::to_string(magnitude);
  return out;
}

void append_hex_escape(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += "\\x";
  out += kHex[c >> 4];
  out += kHex[c & 0xF];
}

// repr() of a str (UTF-8) or of bytes (b'...'): single quotes unless the text holds a single
// quote and no double one; backslash, the quote, \t \n \r escaped; other control characters
// (and, for bytes, every byte above 0x7E) as \xhh.
std::string py_repr_text(std::string_view s, bool bytes) {
  const bool has_single = s.find('\'') != std::string_view::npos;
  const char quote = has_single && s.find('"') == std::string_view::npos ? '"' : '\'';
  std::string out = bytes ? "b" : "";
  out += quote;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (ch == quote || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (ch == '\t') {
      out += "\\t";
    } else if (ch == '\n') {
      out += "\\n";
    } else if (ch == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7F || (bytes && c > 0x7F)) {
      append_hex_escape(out, c);
    } else {
      out += ch;
    }
  }
  out += quote;
  return out;
}

std::string py_repr(const json::value& v);

// str() of a value json.loads gave: a str is itself, None/True/False, numbers as repr, lists
// and dicts as their repr.
std::string py_str(const json::value& v) {
  switch (v.kind()) {
    case json::kind::string:
      return std::string(view(v.get_string()));
    case json::kind::null:
      return "None";
    case json::kind::bool_:
      return v.get_bool() ? "True" : "False";
    case json::kind::int64:
      return std::to_string(v.get_int64());
    case json::kind::uint64:
      return std::to_string(v.get_uint64());
    case json::kind::double_:
      return py_float(v.get_double());
    case json::kind::array: {
      std::string out = "[";
      for (const json::value& e : v.get_array()) {
        if (out.size() > 1) out += ", ";
        out += py_repr(e);
      }
      return out + "]";
    }
    case json::kind::object: {
      std::string out = "{";
      for (const auto& kv : v.get_object()) {
        if (out.size() > 1) out += ", ";
        out += py_repr_text(kv.key(), false) + ": " + py_repr(kv.value());
      }
      return out + "}";
    }
  }
  return {};
}

std::string py_repr(const json::value& v) {
  return v.is_string() ? py_repr_text(view(v.get_string()), false) : py_str(v);
}

// json.dumps of a str: ensure_ascii (Python's default) escapes everything outside ' '..'~' as
// \uXXXX; without it (Falcon's) only the quote, the backslash and control characters.
std::string py_json_string(std::string_view text, bool ensure_ascii) {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto escape_unit = [](std::string& out, char32_t u) {
    out += "\\u";
    for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(u >> shift) & 0xF];
  };
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = utf8::sequence_at(text, i);
    const char32_t cp = n == 0 ? char32_t{0xFFFD} : utf8::code_point_at(text, i, n);
    i += n == 0 ? 1 : n;
    switch (cp) {
      case '"':
        out += "\\\"";
        continue;
      case '\\':
        out += "\\\\";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\r':
        out += "\\r";
        continue;
      case '\t':
        out += "\\t";
        continue;
      case '\b':
        out += "\\b";
        continue;
      case '\f':
        out += "\\f";
        continue;
      default:
        break;
    }
    if (cp < 0x20 || (ensure_ascii && cp > 0x7E)) {
      if (cp >= 0x10000) {
        escape_unit(out, 0xD800 + ((cp - 0x10000) >> 10));
        escape_unit(out, 0xDC00 + ((cp - 0x10000) & 0x3FF));
      } else {
        escape_unit(out, cp);
      }
    } else {
      utf8::append_code_point(out, cp);
    }
  }
  return out + "\"";
}

// ---- refusals ----

JasminRefusal send_refusal(std::string message, unsigned status = 400) {
  return JasminRefusal{status, "Error \"" + message + "\"", std::move(message)};
}

JasminRefusal json_refusal(std::string message, unsigned status = 400) {
  return JasminRefusal{status, py_json_string(message, true), std::move(message)};
}

// Falcon's HTTPError body.
JasminRefusal falcon_refusal(unsigned status, std::string_view title, std::string description) {
  std::string body = "{\"title\": " + py_json_string(title, false) +
                     ", \"description\": " + py_json_string(description, false) + "}";
  return JasminRefusal{status, std::move(body), std::string(title) + ": " + description};
}

std::string invalid_value(std::string_view name, std::string_view value) {
  return "Argument [" + std::string(name) + "] has an invalid value: [" + std::string(value) + "].";
}

// ---- the argument table ----

enum class Pattern : uint8_t {
  none,
  to,          // ^\+{0,1}\d+$
  coding,      // ^(0|1|2|3|4|5|6|7|8|9|10|13|14){1}$
  credential,  // ^.{1,16}$
  priority,    // ^[0-3]$
  sdt,         // ^\d{2}\d{2}\d{2}\d{2}\d{2}\d{2}\d{1}\d{2}(\+|-|R)$
  digits,      // ^\d+$
  dlr,         // ^(yes|no)$
  dlr_url,     // ^(http|https)\://.*$
  dlr_level,   // ^[1-3]$
  dlr_method,  // ^(get|post)$, ignoring case
  tags,        // ^([-a-zA-Z0-9,])*$
};

struct Field {
  std::string_view name;
  bool optional = true;
  Pattern pattern = Pattern::none;
  bool rate = false;  // /rate takes it too
};

// send.py's table, in its order (the order fields are checked in).
constexpr std::array<Field, 15> kSendFields = {{
    {"to", false, Pattern::to, true},
    {"from", true, Pattern::none, true},
    {"coding", true, Pattern::coding, true},
    {"username", false, Pattern::credential, true},
    {"password", false, Pattern::credential, true},
    {"priority", true, Pattern::priority, true},
    {"sdt", true, Pattern::sdt, false},
    {"validity-period", true, Pattern::digits, true},
    {"dlr", false, Pattern::dlr, false},
    {"dlr-url", true, Pattern::dlr_url, false},
    {"dlr-level", true, Pattern::dlr_level, false},
    {"dlr-method", true, Pattern::dlr_method, false},
    {"tags", true, Pattern::tags, true},
    {"content", true, Pattern::none, true},
    {"hex-content", true, Pattern::none, true},
}};

// rate.py's: the same without sdt and the dlr arguments.
constexpr std::array<Field, 10> kRateFields = [] {
  std::array<Field, 10> out{};
  std::size_t n = 0;
  for (const Field& f : kSendFields) {
    if (f.rate) out[n++] = f;
  }
  return out;
}();
static_assert(!kRateFields.back().name.empty(), "every one of rate.py's fields");

// balance.py's.
constexpr std::array<Field, 2> kBalanceFields = {{
    {"username", false, Pattern::credential},
    {"password", false, Pattern::credential},
}};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool all_digits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), is_digit);
}

// The pattern against the whole of `v` (no '\n' anywhere: '.' does not match it).
bool matches_whole(Pattern p, std::string_view v) {
  switch (p) {
    case Pattern::none:
      return true;
    case Pattern::to: {
      const std::string_view digits = v.starts_with('+') ? v.substr(1) : v;
      return !digits.empty() && all_digits(digits);
    }
    case Pattern::coding: {
      static constexpr std::array<std::string_view, 13> kCodings = {
          "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "13", "14"};
      return std::find(kCodings.begin(), kCodings.end(), v) != kCodings.end();
    }
    case Pattern::credential:
      return !v.empty() && v.size() <= 16 && v.find('\n') == std::string_view::npos;
    case Pattern::priority:
      return v.size() == 1 && v[0] >= '0' && v[0] <= '3';
    case Pattern::sdt:
      return v.size() == 16 && all_digits(v.substr(0, 15)) &&
             (v[15] == '+' || v[15] == '-' || v[15] == 'R');
    case Pattern::digits:
      return !v.empty() && all_digits(v);
    case Pattern::dlr:
      return v == "yes" || v == "no";
    case Pattern::dlr_url: {
      std::string_view rest;
      if (v.starts_with("http://")) {
        rest = v.substr(7);
      } else if (v.starts_with("https://")) {
        rest = v.substr(8);
      } else {
        return false;
      }
      return rest.find('\n') == std::string_view::npos;
    }
    case Pattern::dlr_level:
      return v.size() == 1 && v[0] >= '1' && v[0] <= '3';
    case Pattern::dlr_method:
      return iequals(v, "get") || iequals(v, "post");
    case Pattern::tags:
      return std::all_of(v.begin(), v.end(), [](char c) {
        return c == '-' || c == ',' || is_digit(c) || (c >= 'a' && c <= 'z') ||
               (c >= 'A' && c <= 'Z');
      });
  }
  return false;
}

// re.match(pattern, v): Python's '$' also matches just before a final newline.
bool matches(Pattern p, std::string_view v) {
  return matches_whole(p, v) ||
         (p != Pattern::none && v.ends_with('\n') && matches_whole(p, v.substr(0, v.size() - 1)));
}

// A validated value without the final newline '$' let through.
std::string trimmed(const JasminArg& a) {
  std::string_view v = a.value;
  if (v.ends_with('\n')) v.remove_suffix(1);
  return std::string(v);
}

// UrlArgsValidator.validate: every name checked for being known, in order; the fields, in the
// table's order, checked once the first name is known.
std::optional<std::string> validate(const JasminArgs& args, std::span<const Field> fields) {
  if (args.empty()) {
    return std::string(
        "Mandatory arguments not found, please refer to the HTTPAPI specifications.");
  }
  bool checked = false;
  for (const JasminArg& arg : args.items()) {
    const bool known = std::any_of(fields.begin(), fields.end(),
                                   [&](const Field& f) { return f.name == arg.name; });
    if (!known) return "Argument [" + arg.name + "] is unknown.";
    if (checked) continue;
    checked = true;
    for (const Field& f : fields) {
      const JasminArg* a = args.find(f.name);
      if (a == nullptr) {
        if (!f.optional) return "Mandatory argument [" + std::string(f.name) + "] is not found.";
        continue;
      }
      if (a->structured || !matches(f.pattern, a->value)) return invalid_value(f.name, a->value);
    }
  }
  return std::nullopt;
}

uint64_t saturating_decimal(std::string_view digits) {
  uint64_t v = 0;
  for (char c : digits) {
    const auto d = static_cast<uint64_t>(c - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - d) / 10) {
      return std::numeric_limits<uint64_t>::max();
    }
    v = v * 10 + d;
  }
  return v;
}

// The fields /send and /rate share, once validated.
std::variant<JasminSend, std::string> read_common(const JasminArgs& a) {
  JasminSend s;
  s.username = a.find("username")->value;
  s.password = a.find("password")->value;
  s.to = trimmed(*a.find("to"));
  if (const JasminArg* v = a.find("from")) s.from = v->value;
  s.coding = std::stoi(trimmed(*a.find("coding")));
  if (const JasminArg* v = a.find("priority")) s.priority = v->value[0] - '0';
  if (const JasminArg* v = a.find("validity-period")) s.validity_period = trimmed(*v);
  if (const JasminArg* v = a.find("tags")) {
    const std::string tags = trimmed(*v);
    std::size_t start = 0;
    for (;;) {
      const std::size_t comma = tags.find(',', start);
      s.tags.push_back(tags.substr(start, comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  const JasminArg* content = a.find("content");
  const JasminArg* hex = a.find("hex-content");
  if (hex) {
    auto bytes = hex_decode(hex->value);
    if (!bytes) {
      return "Invalid hex-content data: '" + py_repr_text(hex->value, true) + "'";
    }
    s.content.assign(bytes->begin(), bytes->end());
    s.hex_content = true;
  } else if (content) {
    s.content = content->value;
  }
  return s;
}

std::string ascii_upper(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

std::optional<json::value> parse_json(std::string_view body) {
  json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  json::parser parser({}, options);
  boost::system::error_code ec;
  parser.write(body.data(), body.size(), ec);
  if (ec) return std::nullopt;
  return parser.release();
}

}  // namespace

// ---- JasminArgs ----

const JasminArg* JasminArgs::find(std::string_view name) const {
  const auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : &items_[it->second];
}

void JasminArgs::set(std::string name, std::string value, bool structured) {
  if (const auto it = index_.find(name); it != index_.end()) {
    items_[it->second].value = std::move(value);
    items_[it->second].structured = structured;
    return;
  }
  index_.emplace(name, items_.size());
  items_.push_back({std::move(name), std::move(value), structured});
}

void JasminArgs::update(const JasminArgs& other) {
  for (const JasminArg& a : other.items_) set(a.name, a.value, a.structured);
}

JasminArgs parse_jasmin_form(std::string_view form) {
  JasminArgs args;
  std::size_t pos = 0;
  while (pos <= form.size()) {
    std::size_t end = form.find_first_of("&;", pos);
    if (end == std::string_view::npos) end = form.size();
    const std::string_view item = form.substr(pos, end - pos);
    pos = end + 1;
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    std::string name = url_decode(item.substr(0, eq));
    if (args.find(name) != nullptr) continue;  // Jasmin reads args[name][0]
    args.set(std::move(name), url_decode(item.substr(eq + 1)));
  }
  return args;
}

JasminArgs merge_jasmin_args(std::span<const JasminArgs> sources) {
  JasminArgs merged;
  for (const JasminArgs& source : sources) merged.update(source);
  return merged;
}

std::optional<JasminRefusal> merge_jasmin_json(JasminArgs& args, std::string_view body) {
  const auto parsed = parse_json(body);
  if (!parsed || !parsed->is_object()) {
    return send_refusal("Invalid JSON body: expected a JSON object.");
  }
  for (const auto& kv : parsed->get_object()) {
    const json::value& v = kv.value();
    const bool structured = v.is_array() || v.is_object() || v.is_null();
    args.set(std::string(kv.key()), py_str(v), structured);
  }
  return std::nullopt;
}

std::variant<JasminSend, JasminRefusal> parse_jasmin_send(const JasminArgs& args) {
  JasminArgs a = args;
  if (!a.find("coding")) a.set("coding", "0");
  if (a.find("dlr-url") || a.find("dlr-level")) a.set("dlr", "yes");
  if (!a.find("dlr")) a.set("dlr", "no");
  const bool dlr = !a.find("dlr")->structured && a.find("dlr")->value == "yes";
  if (dlr) {
    if (!a.find("dlr-level")) a.set("dlr-level", "1");
    if (!a.find("dlr-method")) a.set("dlr-method", "POST");
  }
  if (const JasminArg* m = a.find("dlr-method"); m && !m->structured) {
    a.set("dlr-method", ascii_upper(m->value));
  }
  if (auto problem = validate(a, kSendFields)) return send_refusal(std::move(*problem));
  const bool content = a.find("content") != nullptr;
  const bool hex = a.find("hex-content") != nullptr;
  if (!content && !hex) return send_refusal("content or hex-content not present.");
  if (content && hex) {
    return send_refusal("content and hex-content cannot be used both in same request.");
  }
  auto common = read_common(a);
  if (auto* problem = std::get_if<std::string>(&common)) return send_refusal(std::move(*problem));
  JasminSend s = std::move(std::get<JasminSend>(common));
  if (const JasminArg* v = a.find("sdt")) s.sdt = trimmed(*v);
  if (dlr) {
    s.dlr = true;
    s.dlr_level = trimmed(*a.find("dlr-level"))[0] - '0';
    s.dlr_method = trimmed(*a.find("dlr-method"));
    if (const JasminArg* v = a.find("dlr-url")) s.dlr_url = trimmed(*v);
  }
  return s;
}

std::variant<JasminSend, JasminRefusal> parse_jasmin_rate(const JasminArgs& args) {
  JasminArgs a = args;
  if (!a.find("coding")) a.set("coding", "0");
  if (!a.find("hex-content") && !a.find("content")) a.set("content", "");
  if (auto problem = validate(a, kRateFields)) return json_refusal(std::move(*problem));
  if (a.find("content") && a.find("hex-content")) {
    return json_refusal("content and hex-content cannot be used both in same request.");
  }
  auto common = read_common(a);
  if (auto* problem = std::get_if<std::string>(&common)) return json_refusal(std::move(*problem));
  return std::move(std::get<JasminSend>(common));
}

std::variant<JasminCredentials, JasminRefusal> parse_jasmin_balance(const JasminArgs& args) {
  if (auto problem = validate(args, kBalanceFields)) return json_refusal(std::move(*problem));
  return JasminCredentials{args.find("username")->value, args.find("password")->value};
}

std::variant<MessageRequest, JasminRefusal> jasmin_to_request(const JasminSend& s,
                                                              sys_seconds now) {
  const auto invalid = [](std::string_view name, std::string_view value) {
    return send_refusal(invalid_value(name, value));
  };
  MessageRequest m;
  auto to = parse_phone_number(s.to);
  if (!to) return invalid("to", s.to);
  m.to.push_back(std::move(*to));
  if (s.from && !s.from->empty()) {
    auto sender = parse_sender(*s.from);
    if (!std::holds_alternative<Address>(sender)) return invalid("from", *s.from);
    m.from = std::move(std::get<Address>(sender));
  } else {
    m.from = Address{"", ton::kUnknown, npi::kUnknown};  // source_addr NULL: the SMSC's default
  }

  m.data_coding = static_cast<uint8_t>(s.coding);
  if (s.coding == 0 && !s.hex_content) {
    if (!utf8::valid(s.content)) return invalid("content", s.content);
    smpp::EncodedBytes gsm = smpp::utf8_to_gsm7(s.content, smpp::OnInvalid::replace);
    m.alphabet = smpp::Alphabet::gsm7;
    m.payload = std::move(gsm.bytes);
    m.text = s.content;
  } else {
    m.alphabet = smpp::alphabet_of(m.data_coding);
    m.payload.assign(s.content.begin(), s.content.end());
    if (m.alphabet != smpp::Alphabet::binary) {
      smpp::TextDecodeOptions options;
      options.on_invalid = smpp::OnInvalid::replace;
      smpp::DecodedText decoded = smpp::decode_message(m.payload, m.data_coding, options);
      if (decoded.ok()) m.text = std::move(decoded.text);
    }
  }

  if (s.priority) m.priority_flag = static_cast<uint8_t>(*s.priority);
  if (s.validity_period) {
    const uint64_t minutes = saturating_decimal(*s.validity_period);
    if (now > kLastSmppTime ||
        minutes > static_cast<uint64_t>((kLastSmppTime - now).count() / 60)) {
      return invalid("validity-period", *s.validity_period);
    }
    m.expires_at = now + std::chrono::minutes(static_cast<int64_t>(minutes));
  }
  if (s.sdt) {
    const auto t = smpp::parse_time(*s.sdt);
    if (!t) return invalid("sdt", *s.sdt);
    const sys_seconds at = t->kind == smpp::SmppTime::Kind::absolute
                               ? sys_seconds(std::chrono::seconds(t->to_unix_seconds()))
                               : now + std::chrono::seconds(t->to_duration_seconds());
    if (at > kLastSmppTime) return invalid("sdt", *s.sdt);
    if (at > now) m.schedule_at = at;
  }
  m.registered_delivery = s.dlr && (s.dlr_level == 2 || s.dlr_level == 3);
  return m;
}

std::string jasmin_success(std::string_view id) {
  return "Success \"" + std::string(id) + "\"";
}

std::string jasmin_json_string(std::string_view text) {
  return py_json_string(text, true);
}

// ---- the REST API ----

namespace {

JasminRefusal unparseable(std::string_view body) {
  return falcon_refusal(412, "Cannot parse JSON data",
                        "Got unparseable json data: " + py_repr_text(body, true));
}

bool is_scalar(const json::value& v) {
  return v.is_string() || v.is_number() || v.is_bool();
}

// The first value Python requests puts in a query for this parameter (/send reads the first):
// a list gives its items (a nested list or dict gives its own items or keys, None its str()),
// a dict its keys, None nothing.
std::optional<std::string> first_query_value(const json::value& v) {
  if (is_scalar(v)) return py_str(v);
  if (const json::object* o = v.if_object()) {
    if (o->empty()) return std::nullopt;
    return std::string(o->begin()->key());
  }
  if (const json::array* a = v.if_array()) {
    for (const json::value& item : *a) {
      if (item.is_null()) continue;
      if (is_scalar(item)) return py_str(item);
      if (const json::object* o = item.if_object(); o && !o->empty()) {
        return std::string(o->begin()->key());
      }
      if (const json::array* inner = item.if_array(); inner && !inner->empty()) {
        return py_str(inner->front());
      }
    }
  }
  return std::nullopt;
}

// A Python dict of JSON values by name: a name set again keeps its place and takes the later
// value.
class Params {
 public:
  void set(std::string name, const json::value* value) {
    if (const auto it = index_.find(name); it != index_.end()) {
      items_[it->second].second = value;
      return;
    }
    index_.emplace(name, items_.size());
    items_.emplace_back(std::move(name), value);
  }
  const json::value* find(const std::string& name) const {
    const auto it = index_.find(name);
    return it == index_.end() ? nullptr : items_[it->second].second;
  }
  const std::vector<std::pair<std::string, const json::value*>>& items() const { return items_; }
  // The same with '_' turned into '-' in every name.
  Params dashed() const {
    Params out;
    for (const auto& [name, value] : items_) {
      std::string d = name;
      std::replace(d.begin(), d.end(), '_', '-');
      out.set(std::move(d), value);
    }
    return out;
  }
  // The query Python requests makes of them (one value a name, as /send reads it), `to`
  // replaced when `to` is given.
  JasminArgs query(const json::value* to = nullptr) const {
    JasminArgs args;
    for (const auto& [name, value] : items_) {
      const json::value* v = name == "to" && to ? to : value;
      if (auto first = first_query_value(*v)) args.set(name, std::move(*first));
    }
    return args;
  }

 private:
  std::vector<std::pair<std::string, const json::value*>> items_;
  std::unordered_map<std::string, std::size_t> index_;
};

std::size_t args_bytes(const JasminArgs& args) {
  std::size_t n = 0;
  for (const JasminArg& a : args.items()) n += a.name.size() + a.value.size() + 2;
  return n;
}

// Python's strptime(value, '%Y-%m-%d %H:%M:%S'): %Y four digits; %m, %d, %H, %M, %S one or two
// (%d also " 5"); the space any white space; then a date that exists (a second of 60 does not).
std::optional<sys_seconds> strptime_date(std::string_view s) {
  // The fields' regular expressions as _strptime writes them, as (min, max, allow_space_pad).
  struct Part {
    char separator;  // before the field: 0, '-', ' ', ':'
    int min, max;
    bool space_padded;
    std::size_t max_digits;
  };
  static constexpr std::array<Part, 6> kParts = {{
      {0, 0, 9999, false, 4},
      {'-', 1, 12, false, 2},
      {'-', 1, 31, true, 2},
      {' ', 0, 23, false, 2},
      {':', 0, 59, false, 2},
      {':', 0, 61, false, 2},
  }};
  std::array<int, 6> values{};
  // Backtracking over each field's one- or two-digit readings.
  const auto match = [&](auto& self, std::size_t part, std::size_t pos) -> bool {
    if (part == kParts.size()) return pos == s.size();
    const Part& p = kParts[part];
    if (p.separator == ' ') {
      const std::size_t start = pos;
      while (pos < s.size() && (s[pos] == ' ' || (s[pos] >= '\t' && s[pos] <= '\r'))) ++pos;
      if (pos == start) return false;
    } else if (p.separator != 0) {
      if (pos >= s.size() || s[pos] != p.separator) return false;
      ++pos;
    }
    if (part == 0) {  // %Y: exactly four digits
      if (pos + 4 > s.size() || !all_digits(s.substr(pos, 4))) return false;
      values[0] = std::stoi(std::string(s.substr(pos, 4)));
      return self(self, 1, pos + 4);
    }
    for (std::size_t len = p.max_digits; len >= 1; --len) {
      std::string_view digits = s.substr(pos, len);
      if (digits.size() != len) continue;
      if (p.space_padded && len == 2 && digits[0] == ' ' && digits[1] >= '1' && digits[1] <= '9') {
        values[part] = digits[1] - '0';
        if (self(self, part + 1, pos + len)) return true;
        continue;
      }
      if (!all_digits(digits)) continue;
      const int v = std::stoi(std::string(digits));
      if (v < p.min || v > p.max) continue;
      values[part] = v;
      if (self(self, part + 1, pos + len)) return true;
    }
    return false;
  };
  if (!match(match, 0, 0)) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year(values[0]),
                                         std::chrono::month(static_cast<unsigned>(values[1])),
                                         std::chrono::day(static_cast<unsigned>(values[2]))};
  if (values[0] < 1 || !date.ok() || values[5] > 59) return std::nullopt;
  return sys_seconds(std::chrono::sys_days(date)) + std::chrono::hours(values[3]) +
         std::chrono::minutes(values[4]) + std::chrono::seconds(values[5]);
}

std::string format_datetime(sys_seconds t) {
  const auto days = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day date{days};
  const std::chrono::hh_mm_ss<std::chrono::seconds> time{t - days};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02d:%02d:%02d", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  return buf;
}

}  // namespace

std::variant<JasminArgs, JasminRefusal> jasmin_rest_send_args(std::string_view body,
                                                              std::string_view username,
                                                              std::string_view password) {
  const auto parsed = parse_json(body);
  if (!parsed || !parsed->is_object()) return unparseable(body);
  const json::value user = json::string(username);
  const json::value pass = json::string(password);
  Params params;
  for (const auto& kv : parsed->get_object()) params.set(std::string(kv.key()), &kv.value());
  params.set("username", &user);
  params.set("password", &pass);
  return params.dashed().query();
}

std::string jasmin_rest_answer(unsigned status, std::string_view http_api_body) {
  std::string_view text = http_api_body;  // r.content.strip('"')
  while (text.starts_with('"')) text.remove_prefix(1);
  while (text.ends_with('"')) text.remove_suffix(1);
  if (status != 200) return "{\"message\": " + py_json_string(text, true) + "}";
  // '{' in it: a JSON result (/rate's, /balance's), given as it is when it is one.
  if (text.find('{') != std::string_view::npos && parse_json(text)) {
    return "{\"data\": " + std::string(text) + "}";
  }
  return "{\"data\": " + py_json_string(text, true) + "}";
}

std::variant<JasminBatch, JasminRefusal> parse_jasmin_batch(std::string_view body,
                                                            std::string_view username,
                                                            std::string_view password,
                                                            sys_seconds now,
                                                            const JasminBatchLimits& limits) {
  const auto parsed = parse_json(body);
  if (!parsed || !parsed->is_object()) return unparseable(body);
  const json::object& root = parsed->get_object();
  const auto shape = [](std::string description) {
    return falcon_refusal(400, "Invalid batch", std::move(description));
  };
  static const json::object kEmpty;
  const json::object* config = &kEmpty;
  if (const json::value* v = root.if_contains("batch_config")) {
    config = v->if_object();
    if (!config) return shape("batch_config must be an object");
  }
  const json::object* globals = &kEmpty;
  if (const json::value* v = root.if_contains("globals")) {
    globals = v->if_object();
    if (!globals) return shape("globals must be an object");
  }
  static const json::array kNone;
  const json::array* messages = &kNone;
  if (const json::value* v = root.if_contains("messages")) {
    messages = v->if_array();
    if (!messages) return shape("messages must be an array");
  }

  JasminBatch batch;
  for (const auto& [key, out] : {std::pair{"callback_url", &batch.callback_url},
                                 std::pair{"errback_url", &batch.errback_url}}) {
    if (const json::value* v = config->if_contains(key);
        v && v->is_string() && !v->get_string().empty()) {
      *out = std::string(view(v->get_string()));
    }
  }
  if (const json::value* v = config->if_contains("schedule_at"); v && !v->is_null()) {
    const std::string value = py_str(*v);
    const auto at = v->is_string() ? strptime_date(value) : std::nullopt;
    if (at) {
      if (*at < now) {
        return falcon_refusal(412, "Cannot schedule batch in past date",
                              "Invalid past date given: " + format_datetime(*at));
      }
      batch.delay = *at - now;
      if (batch.delay.count() > 0)
        batch.scheduled = py_float(static_cast<double>(batch.delay.count())) + "s";
    } else {
      // re.match("^(\d+)s$"): digits, 's', perhaps a final newline.
      std::string_view seconds = value;
      if (seconds.ends_with('\n')) seconds.remove_suffix(1);
      const bool ok = v->is_string() && seconds.size() >= 2 && seconds.size() <= 19 &&
                      seconds.ends_with('s') && all_digits(seconds.substr(0, seconds.size() - 1));
      if (!ok) {
        return falcon_refusal(
            412, "Cannot parse scheduled_at value",
            "Got unknown format: " + value +
                ", correct formats are 'YYYY-MM-DD mm:hh:ss' or number of seconds, c.f. "
                "http://docs.jasminsms.com/en/latest/apis/rest");
      }
      batch.delay =
          std::chrono::seconds(std::stoll(std::string(seconds.substr(0, seconds.size() - 1))));
      if (batch.delay.count() > 0) batch.scheduled = std::to_string(batch.delay.count()) + "s";
    }
  }

  const json::value user = json::string(username);
  const json::value pass = json::string(password);
  std::size_t bytes = 0;
  const auto add = [&](JasminArgs args, std::size_t names) -> bool {
    bytes += args_bytes(args) + names;
    if (batch.messages.size() >= limits.max_messages || bytes > limits.max_bytes) return false;
    batch.messages.push_back(std::move(args));
    return true;
  };
  const auto too_large = [&] {
    return falcon_refusal(413, "Batch too large",
                          "more than " + std::to_string(limits.max_messages) + " messages or " +
                              std::to_string(limits.max_bytes) + " bytes");
  };
  const auto has = [&](const json::object& message, std::initializer_list<std::string_view> keys) {
    return std::any_of(keys.begin(), keys.end(), [&](std::string_view k) {
      return message.contains(k) || globals->contains(k);
    });
  };
  for (const json::value& item : *messages) {
    const json::object* message = item.if_object();
    if (!message) return shape("each of messages must be an object");
    // Without `to` or content (under any name that becomes one), left out.
    if (!has(*message, {"to"}) || !has(*message, {"content", "hex-content", "hex_content"})) {
      continue;
    }
    // {username, password} updated with globals, then with the message; then '_' -> '-'.
    Params merged;
    merged.set("username", &user);
    merged.set("password", &pass);
    for (const auto& kv : *globals) merged.set(std::string(kv.key()), &kv.value());
    for (const auto& kv : *message) merged.set(std::string(kv.key()), &kv.value());
    const Params params = merged.dashed();
    // What building the messages costs is counted, whatever they keep.
    const std::size_t names = params.items().size();
    const json::value* to = params.find("to");
    if (const json::array* list = to->if_array()) {
      for (const json::value& one : *list) {
        if (!add(params.query(&one), names)) return too_large();
      }
    } else if (!add(params.query(), names)) {
      return too_large();
    }
  }
  return batch;
}

std::string jasmin_batch_answer(std::string_view batch_id, const JasminBatch& batch) {
  std::string out = "{\"data\": {\"batchId\": " + py_json_string(batch_id, true) +
                    ", \"messageCount\": " + std::to_string(batch.messages.size());
  if (batch.scheduled) out += ", \"scheduled\": " + py_json_string(*batch.scheduled, true);
  return out + "}}";
}

}  // namespace smppd::api
