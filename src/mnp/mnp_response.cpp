#include "mnp/mnp_response.hpp"

#include <boost/json/parser.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <variant>

namespace smppd::mnp {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxBody = 256 * 1024;  // the client takes 64 KiB at most
constexpr int kMaxDepth = 32;
constexpr std::size_t kMaxMessage = 200;
constexpr int kMaxWrappers = 6;  // {"body": {"results": [{...}]}} is three

char lower(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

// Printable ASCII, one line, at most kMaxMessage characters: what is said of an answer may be
// logged, and the answer is the remote's.
std::string printable(std::string_view s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (out.size() == kMaxMessage - 3) {
      out += "...";
      break;
    }
    if (u >= 0x20 && u < 0x7F) {
      out += c;
    } else if (c == '\t' || c == '\r' || c == '\n') {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += '?';
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Whether `key` is `name` (lower-case, without '_' or '-') whatever its case, '_' and '-':
// "is_ported", "isPorted" and "IsPorted" are all "isported".
bool same_name(std::string_view key, std::string_view name) {
  std::size_t j = 0;
  for (char c : key) {
    if (c == '_' || c == '-') continue;
    if (j == name.size() || lower(c) != name[j]) return false;
    ++j;
  }
  return j == name.size();
}

// The first member named one of `names` (in the order of `names`); null when none, or when its
// value is null (a provider's "mcc": null says it does not know).
const json::value* member(const json::object& o, std::initializer_list<std::string_view> names) {
  for (std::string_view name : names) {
    for (const auto& kv : o) {
      if (same_name(kv.key(), name)) return kv.value().is_null() ? nullptr : &kv.value();
    }
  }
  return nullptr;
}

bool same_word(std::string_view text, std::initializer_list<std::string_view> words) {
  for (std::string_view w : words) {
    if (same_name(trim(text), w)) return true;
  }
  return false;
}

bool is_integer(const json::value& v) {
  return v.is_int64() || v.is_uint64();
}

std::string integer_text(const json::value& v) {
  return v.is_int64() ? std::to_string(v.get_int64()) : std::to_string(v.get_uint64());
}

// A scalar as text: a string as it is, an integer in decimal; anything else: nothing.
std::optional<std::string> scalar_text(const json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (is_integer(v)) return integer_text(v);
  return std::nullopt;
}

std::string shown(const json::value& v) {
  if (auto text = scalar_text(v)) return "'" + printable(*text) + "'";
  if (v.is_bool()) return v.get_bool() ? "true" : "false";
  if (v.is_double()) return "a fractional number";
  if (v.is_object()) return "an object";
  if (v.is_array()) return "a list";
  return "null";
}

// What an error value says: a string, a number, or the message inside an object or a list.
std::string describe(const json::value& v, int depth = 0) {
  if (depth > 4) return {};
  if (v.is_string()) return printable(v.get_string());
  if (is_integer(v)) return integer_text(v);
  if (v.is_array())
    return v.get_array().empty() ? std::string() : describe(v.get_array()[0], depth + 1);
  if (!v.is_object()) return {};
  const json::object& o = v.get_object();
  for (std::string_view name : {"message", "errormessage", "description", "detail", "error",
                                "errors", "title", "reason", "name", "code"}) {
    if (const json::value* m = member(o, {name})) {
      std::string said = describe(*m, depth + 1);
      if (!said.empty()) return said;
    }
  }
  return {};
}

// ---- values ----

// A JSON integer of at most 3 digits.
std::optional<uint16_t> small_integer(const json::value& v) {
  if (v.is_int64() && v.get_int64() >= 0 && v.get_int64() <= 999)
    return static_cast<uint16_t>(v.get_int64());
  if (v.is_uint64() && v.get_uint64() <= 999) return static_cast<uint16_t>(v.get_uint64());
  return std::nullopt;
}

std::optional<uint16_t> read_mcc(const json::value& v) {
  if (v.is_string()) return parse_mcc(trim(v.get_string()));
  return small_integer(v);
}

// An integer mnc has lost its leading zeros: below 100 it is read as 2 digits.
std::optional<uint16_t> read_mnc(const json::value& v, bool& three_digits) {
  if (v.is_string()) return parse_mnc(trim(v.get_string()), three_digits);
  const auto n = small_integer(v);
  if (n) three_digits = *n >= 100;
  return n;
}

std::optional<Network> read_mccmnc(const json::value& v) {
  if (v.is_string()) return parse_mccmnc(trim(v.get_string()));
  if (is_integer(v)) return parse_mccmnc(integer_text(v));
  return std::nullopt;
}

enum class Ported { no, yes, unreadable };

Ported read_ported(const json::value* v) {
  if (v == nullptr || v->is_null()) return Ported::no;
  if (v->is_bool()) return v->get_bool() ? Ported::yes : Ported::no;
  if (is_integer(*v)) {
    const std::string text = integer_text(*v);
    if (text == "0") return Ported::no;
    if (text == "1") return Ported::yes;
    return Ported::unreadable;
  }
  if (!v->is_string()) return Ported::unreadable;
  const std::string_view s = v->get_string();
  if (same_word(s, {"true", "yes", "y", "1", "ported"})) return Ported::yes;
  if (same_word(s, {"false", "no", "n", "0", "notported", ""})) return Ported::no;
  return Ported::unreadable;
}

// ---- the answer ----

ParsedAnswer failed(std::string error) {
  ParsedAnswer a;
  a.error = std::move(error);
  return a;
}

std::variant<json::value, std::string> parse_json(std::string_view body) {
  if (trim(body).empty()) return std::string("the answer is empty");
  if (body.size() > kMaxBody) return std::string("the answer is larger than 256 KiB");
  json::parse_options options;
  options.max_depth = kMaxDepth;
  json::parser parser({}, options);
  boost::system::error_code ec;
  const std::size_t consumed = parser.write(body.data(), body.size(), ec);
  if (ec) {
    return "the answer is not JSON (at byte " + std::to_string(consumed) + ": " + ec.message() +
           ")";
  }
  return parser.release();
}

// An error the provider reports inside a 2xx answer.
std::optional<std::string> reported_error(const json::object& o, bool hlr_lookup) {
  auto said = [](std::string what, const json::value* detail) {
    std::string text = detail ? describe(*detail) : std::string();
    return "the provider reports an error: " + (text.empty() ? what : what + ": " + text);
  };
  const json::value* message = member(o, {"message", "errormessage", "error", "errors"});
  if (const json::value* s = member(o, {"success"})) {
    const bool no = (s->is_bool() && !s->get_bool()) ||
                    (s->is_string() && same_word(s->get_string(), {"false", "no", "0"})) ||
                    (s->is_int64() && s->get_int64() == 0);
    if (no) return said("success is false", message);
  }
  if (const json::value* e = member(o, {"error"})) {
    bool set = false;
    if (e->is_string()) {
      set = !same_word(e->get_string(), {"", "none", "ok", "noerror", "0", "false", "null"});
    } else if (e->is_bool()) {
      set = e->get_bool();
    } else if (is_integer(*e)) {
      set = integer_text(*e) != "0";
    } else if (e->is_object()) {
      const json::object& eo = e->get_object();
      const json::value* code = member(eo, {"code", "id"});
      const json::value* name = member(eo, {"name", "message"});
      const bool zero = code && is_integer(*code) && integer_text(*code) == "0";
      const bool ok_name =
          name && name->is_string() && same_word(name->get_string(), {"none", "ok", "noerror"});
      set = !(zero || ok_name) && !eo.empty();
    } else if (e->is_array()) {
      set = !e->get_array().empty();
    }
    if (set) return said("error", e);
  }
  if (const json::value* e = member(o, {"errorcode"})) {
    const bool none =
        (is_integer(*e) && integer_text(*e) == "0") ||
        (e->is_string() && (trim(e->get_string()).empty() || trim(e->get_string()) == "0"));
    if (!none) return said("error_code " + shown(*e), message);
  }
  if (const json::value* e = member(o, {"errors"}); e && e->is_array() && !e->get_array().empty())
    return said("errors", e);
  if (const json::value* e = member(o, {"status"});
      e && e->is_string() && same_word(e->get_string(), {"error", "failed", "failure", "fail"})) {
    return said("status " + shown(*e), message);
  }
  if (!hlr_lookup) return std::nullopt;
  if (const json::value* e = member(o, {"querystatus"});
      e && !(e->is_string() && same_word(e->get_string(), {"ok"}))) {
    return said("query_status " + shown(*e), message);
  }
  if (const json::value* e = member(o, {"processingstatus"});
      e && e->is_string() && same_word(e->get_string(), {"rejected", "failed"})) {
    return said("processing_status " + shown(*e), message);
  }
  if (const json::value* e = member(o, {"connectivitystatus"});
      e && e->is_string() && same_word(e->get_string(), {"invalidmsisdn"})) {
    return "the provider says the number is invalid (connectivity_status INVALID_MSISDN)";
  }
  return std::nullopt;
}

// The network an object names by mcc and mnc, or by an mccmnc (or HNI): std::nullopt with an
// empty error when it names none, with the reason when what it names is not a network.
struct NetworkRead {
  std::optional<Network> network;
  std::string error;
};

NetworkRead read_network(const json::object& o) {
  NetworkRead r;
  const json::value* mcc = member(o, {"mcc"});
  const json::value* mnc = member(o, {"mnc"});
  const json::value* mccmnc = member(o, {"mccmnc", "hni"});
  std::optional<Network> together;
  if (mccmnc) {
    together = read_mccmnc(*mccmnc);
    if (!together) {
      r.error = "mccmnc " + shown(*mccmnc) + " is not 5 or 6 digits";
      return r;
    }
  }
  if (mcc && mnc) {
    Network n;
    const auto c = read_mcc(*mcc);
    if (!c) {
      r.error = "mcc " + shown(*mcc) + " is not 3 digits";
      return r;
    }
    const auto m = read_mnc(*mnc, n.mnc_three_digits);
    if (!m) {
      r.error = "mnc " + shown(*mnc) + " is not 2 or 3 digits";
      return r;
    }
    n.mcc = *c;
    n.mnc = *m;
    if (together && !(*together == n)) {
      r.error = "mcc " + shown(*mcc) + " and mnc " + shown(*mnc) + " disagree with mccmnc " +
                shown(*mccmnc);
      return r;
    }
    r.network = n;
    return r;
  }
  if (together) {
    r.network = together;
    return r;
  }
  if (mcc || mnc) r.error = mcc ? "an mcc without an mnc" : "an mnc without an mcc";
  return r;
}

bool names_network(const json::object& o) {
  return member(o, {"mcc", "mnc", "mccmnc", "hni", "currentnetworkdetails", "currentnetwork"}) !=
         nullptr;
}

ParsedAnswer read_well_known(std::string_view body, bool hlr_lookup) {
  auto parsed = parse_json(body);
  if (auto* error = std::get_if<std::string>(&parsed)) return failed(std::move(*error));
  const json::value* at = &std::get<json::value>(parsed);
  for (int depth = 0;; ++depth) {
    if (depth > kMaxWrappers) return failed("no mcc and mnc (or mccmnc) in the answer");
    if (at->is_array()) {
      if (at->get_array().empty()) return failed("the answer is an empty list");
      at = &at->get_array()[0];
      continue;
    }
    if (!at->is_object()) return failed("the answer is " + shown(*at) + ", not a JSON object");
    const json::object& o = at->get_object();
    if (auto error = reported_error(o, hlr_lookup)) return failed(std::move(*error));
    if (names_network(o)) break;
    const json::value* inner = member(o, {"results", "result", "data", "body", "response"});
    if (inner == nullptr || !(inner->is_object() || inner->is_array())) break;
    at = inner;
  }
  const json::object& record = at->get_object();
  NetworkRead read = read_network(record);
  if (!read.network && read.error.empty()) {
    // The network as an object of its own: hlrlookup.com's current_network_details.
    for (std::string_view name :
         {"currentnetworkdetails", "currentnetwork", "network", "operator", "carrier"}) {
      const json::value* inner = member(record, {name});
      if (inner == nullptr || !inner->is_object()) continue;
      read = read_network(inner->get_object());
      if (read.network || !read.error.empty()) break;
    }
  }
  if (!read.error.empty()) return failed("nonsense in the answer: " + read.error);
  if (!read.network) return failed("no mcc and mnc (or mccmnc) in the answer");
  const json::value* ported = member(record, {"isported", "ported", "numberported"});
  switch (read_ported(ported)) {
    case Ported::yes:
      read.network->ported = true;
      break;
    case Ported::no:
      break;
    case Ported::unreadable:
      return failed("nonsense in the answer: ported is " + shown(*ported) +
                    ", neither true nor false");
  }
  ParsedAnswer answer;
  answer.network = read.network;
  return answer;
}

const json::value* at_path(const json::value& root, const config::JsonPath& path) {
  const json::value* v = &root;
  for (const auto& step : path) {
    if (step.is_index) {
      if (!v->is_array() || step.index >= v->get_array().size()) return nullptr;
      v = &v->get_array()[step.index];
    } else {
      if (!v->is_object()) return nullptr;
      const auto it = v->get_object().find(step.key);
      if (it == v->get_object().end()) return nullptr;
      v = &it->value();
    }
  }
  return v->is_null() ? nullptr : v;
}

std::string path_text(const config::JsonPath& path) {
  std::string out;
  for (const auto& step : path) {
    if (step.is_index) {
      out += "[" + std::to_string(step.index) + "]";
    } else {
      if (!out.empty()) out += '.';
      out += step.key;
    }
  }
  return printable(out);
}

}  // namespace

std::optional<AnswerFormat> make_answer_format(const config::MnpConfig& config,
                                               std::string& error) {
  AnswerFormat format;
  format.provider = config.provider;
  if (config.provider != config::MnpProvider::custom) return format;
  const std::pair<const std::string*, config::JsonPath*> fields[] = {
      {&config.fields.mcc, &format.mcc},
      {&config.fields.mnc, &format.mnc},
      {&config.fields.mccmnc, &format.mccmnc},
      {&config.fields.ported, &format.ported}};
  for (const auto& [text, path] : fields) {
    if (text->empty()) continue;
    auto parsed = config::parse_json_path(*text);
    if (auto* invalid = std::get_if<config::Invalid>(&parsed)) {
      error = invalid->reason;
      return std::nullopt;
    }
    *path = std::move(std::get<config::JsonPath>(parsed));
  }
  const bool split = !format.mcc.empty() && !format.mnc.empty();
  if (!split && format.mccmnc.empty()) {
    error = "mnp.custom needs fields.mcc and fields.mnc, or fields.mccmnc";
    return std::nullopt;
  }
  return format;
}

ParsedAnswer parse_xconnect(std::string_view body) {
  return read_well_known(body, false);
}

ParsedAnswer parse_hlr_lookup(std::string_view body) {
  return read_well_known(body, true);
}

ParsedAnswer parse_custom(const AnswerFormat& format, std::string_view body) {
  auto parsed = parse_json(body);
  if (auto* error = std::get_if<std::string>(&parsed)) return failed(std::move(*error));
  const json::value& root = std::get<json::value>(parsed);
  auto missing = [&](const config::JsonPath& path) {
    std::string error = "no value at " + path_text(path) + " in the answer";
    const std::string said = describe(root);
    if (!said.empty()) error += " (the provider says: " + said + ")";
    return failed(std::move(error));
  };
  Network network;
  if (!format.mcc.empty() && !format.mnc.empty()) {
    const json::value* mcc = at_path(root, format.mcc);
    if (mcc == nullptr) return missing(format.mcc);
    const json::value* mnc = at_path(root, format.mnc);
    if (mnc == nullptr) return missing(format.mnc);
    const auto c = read_mcc(*mcc);
    if (!c) return failed("nonsense in the answer: mcc " + shown(*mcc) + " is not 3 digits");
    const auto m = read_mnc(*mnc, network.mnc_three_digits);
    if (!m) return failed("nonsense in the answer: mnc " + shown(*mnc) + " is not 2 or 3 digits");
    network.mcc = *c;
    network.mnc = *m;
  } else if (!format.mccmnc.empty()) {
    const json::value* mccmnc = at_path(root, format.mccmnc);
    if (mccmnc == nullptr) return missing(format.mccmnc);
    const auto n = read_mccmnc(*mccmnc);
    if (!n) {
      return failed("nonsense in the answer: mccmnc " + shown(*mccmnc) + " is not 5 or 6 digits");
    }
    network = *n;
  } else {
    return failed("mnp.custom names no field for the network");
  }
  if (!format.ported.empty()) {
    const json::value* ported = at_path(root, format.ported);
    switch (read_ported(ported)) {
      case Ported::yes:
        network.ported = true;
        break;
      case Ported::no:
        break;
      case Ported::unreadable:
        return failed("nonsense in the answer: " + path_text(format.ported) + " is " +
                      shown(*ported) + ", neither true nor false");
    }
  }
  ParsedAnswer answer;
  answer.network = network;
  return answer;
}

ParsedAnswer parse_answer(const AnswerFormat& format, std::string_view body) {
  switch (format.provider) {
    case config::MnpProvider::xconnect:
      return parse_xconnect(body);
    case config::MnpProvider::hlr_lookup:
      return parse_hlr_lookup(body);
    case config::MnpProvider::custom:
      return parse_custom(format, body);
  }
  return failed("unknown provider");
}

std::string error_message(std::string_view body) {
  if (trim(body).empty()) return {};
  if (body.size() <= kMaxBody) {
    json::parse_options options;
    options.max_depth = kMaxDepth;
    json::parser parser({}, options);
    boost::system::error_code ec;
    parser.write(body.data(), body.size(), ec);
    if (!ec) {
      const json::value v = parser.release();
      return v.is_object() || v.is_array() || v.is_string() ? describe(v) : std::string();
    }
  }
  const std::string_view text = trim(body);
  return printable(text.substr(0, std::min(text.find_first_of("\r\n"), kMaxMessage)));
}

}  // namespace smppd::mnp
