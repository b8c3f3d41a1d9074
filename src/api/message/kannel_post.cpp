#include "api/message/kannel_post.hpp"

#include <array>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <vector>

#include "api/message/decoding.hpp"
#include "api/message/xml_reader.hpp"

namespace smppd::api {

namespace {

KannelRefusal refusal(unsigned status, std::string_view body) {
  return KannelRefusal{status, std::string(body)};
}

// What the fields of a POST are before Kannel's checks: each absent until read, integers -1.
struct Fields {
  std::optional<std::string> from, to, user, pass, smsc, dlr_url, account, binfo, meta_data;
  std::optional<std::vector<uint8_t>> udh;
  std::optional<std::vector<std::string>> to_list;  // the XML's <da><number>s
  int mclass = -1, mwi = -1, coding = -1, compress = -1, validity = -1, deferred = -1;
  int dlr_mask = -1, pid = -1, alt_dcs = -1, rpi = -1, priority = -1;
  std::string type;  // the content type, lower case
  std::string charset;
  std::string text;
};

// The Content-Type's type and charset as http_header_get_content_type reads them: the first
// header; the type is what comes before ';'; the charset what comes after the first '=' after
// it, one pair of quotes removed.
void read_content_type(std::span<const HeaderField> headers, Fields& f) {
  f.type = "application/octet-stream";
  for (const auto& [name, value] : headers) {
    if (!iequals(name, "Content-Type")) continue;
    const std::string_view h = strip_blanks(value);
    const std::size_t semicolon = h.find(';');
    f.type = std::string(strip_blanks(h.substr(0, semicolon)));
    if (semicolon != std::string_view::npos) {
      std::string_view params = strip_blanks(h.substr(semicolon + 1));
      const std::size_t equals = params.find('=');
      if (equals != std::string_view::npos) {
        params.remove_prefix(equals + 1);
        if (params.starts_with('"')) params.remove_prefix(1);
        if (params.ends_with('"')) params.remove_suffix(1);
        f.charset = std::string(params);
      }
    }
    break;
  }
  for (char& c : f.type) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
}

// octstr_hex_to_binary: every character a hex digit (an odd last one is dropped), else nothing.
std::optional<std::vector<uint8_t>> kannel_hex(std::string_view s) {
  std::vector<uint8_t> out;
  for (char c : s) {
    if (hex_value(c) < 0) return std::nullopt;
  }
  out.reserve(s.size() / 2);
  for (std::size_t i = 0; i + 1 < s.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(hex_value(s[i]) * 16 + hex_value(s[i + 1])));
  }
  return out;
}

std::vector<uint8_t> hex_or_url_decoded(std::string_view s) {
  if (auto bytes = kannel_hex(s)) return std::move(*bytes);
  const std::string decoded = url_decode(s);
  return {decoded.begin(), decoded.end()};
}

void read_headers(std::span<const HeaderField> headers, Fields& f) {
  const auto text = [](std::string_view v) { return std::string(strip_blanks(v)); };
  const auto integer = [](std::string_view v, int& out) {
    if (auto n = scan_c_int(v)) out = *n;
  };
  struct IntHeader {
    std::string_view name;
    int Fields::*field;
  };
  static constexpr std::array<IntHeader, 11> kIntegers = {{
      {"X-Kannel-Coding", &Fields::coding},
      {"X-Kannel-PID", &Fields::pid},
      {"X-Kannel-MWI", &Fields::mwi},
      {"X-Kannel-MClass", &Fields::mclass},
      {"X-Kannel-Alt-DCS", &Fields::alt_dcs},
      {"X-Kannel-Compress", &Fields::compress},
      {"X-Kannel-Validity", &Fields::validity},
      {"X-Kannel-Deferred", &Fields::deferred},
      {"X-Kannel-DLR-Mask", &Fields::dlr_mask},
      {"X-Kannel-RPI", &Fields::rpi},
      {"X-Kannel-Priority", &Fields::priority},
  }};
  struct TextHeader {
    std::string_view name;
    std::optional<std::string> Fields::*field;
  };
  static constexpr std::array<TextHeader, 9> kTexts = {{
      {"X-Kannel-From", &Fields::from},
      {"X-Kannel-To", &Fields::to},
      {"X-Kannel-Username", &Fields::user},
      {"X-Kannel-Password", &Fields::pass},
      {"X-Kannel-SMSC", &Fields::smsc},
      {"X-Kannel-DLR-URL", &Fields::dlr_url},
      {"X-Kannel-Account", &Fields::account},
      {"X-Kannel-BInfo", &Fields::binfo},
      {"X-Kannel-Meta-Data", &Fields::meta_data},
  }};
  for (const auto& [name, value] : headers) {
    if (iequals(name, "X-Kannel-UDH")) {
      f.udh = hex_or_url_decoded(strip_blanks(value));
      continue;
    }
    for (const auto& h : kTexts) {
      if (iequals(name, h.name)) f.*h.field = text(value);
    }
    for (const auto& h : kIntegers) {
      if (iequals(name, h.name)) integer(value, f.*h.field);
    }
  }
}

// libxml2's xmlXPathStringEvalNumber: blanks, an optional '-', digits with an optional
// fraction and exponent, blanks; anything else is NaN ("" too; "-" alone is 0).
double xpath_number(std::string_view s) {
  constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
  const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  std::size_t i = 0;
  while (i < s.size() && blank(s[i])) ++i;
  if (i == s.size() || (s[i] != '.' && s[i] != '-' && !digit(s[i]))) return kNan;
  std::string number;  // rebuilt for strtod, which reads more forms than XPath allows
  if (s[i] == '-') number += s[i++];
  bool digits = false;
  for (; i < s.size() && digit(s[i]); ++i) {
    number += s[i];
    digits = true;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits && (i == s.size() || !digit(s[i]))) return kNan;
    number += '.';
    for (; i < s.size() && digit(s[i]); ++i) number += s[i];
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    std::string exponent = "e";
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) exponent += s[i++];
    int value = 0;
    for (; i < s.size() && digit(s[i]); ++i) {
      if (value < 1000000) value = value * 10 + (s[i] - '0');
    }
    number += exponent + std::to_string(value);
  }
  while (i < s.size() && blank(s[i])) ++i;
  if (i != s.size()) return kNan;
  if (number == "-" || number.empty() || number == "-." || number == ".") return 0.0;
  return std::strtod(number.c_str(), nullptr);
}

// C's conversion of a double to int as x86 does it (cvttsd2si): towards zero; NaN and what
// int cannot hold become INT_MIN.
int c_int(double d) {
  if (std::isnan(d) || d >= 2147483648.0 || d <= -2147483649.0) return INT_MIN;
  return static_cast<int>(d);
}

// get_x_kannel_from_xml. False when the document does not parse (nothing is read then).
bool read_xml(std::string_view body, Fields& f) {
  const auto doc = xml::parse(body);
  if (!doc) return false;
  const auto first = [&](std::initializer_list<std::string_view> path) -> const xml::Node* {
    const auto found = xml::select(*doc, {path.begin(), path.size()});
    return found.empty() ? nullptr : found.front();
  };
  // XPATH_SEARCH_OCTSTR: the first element's text, stripped, when there is one.
  const auto text = [&](std::initializer_list<std::string_view> path,
                        std::optional<std::string>& out) {
    if (const xml::Node* n = first(path)) {
      out = std::string(strip_blanks(xml::string_value(*doc, *n)));
    }
  };
  // XPATH_SEARCH_NUMBER.
  const auto number = [&](std::initializer_list<std::string_view> path, int& out) {
    if (const xml::Node* n = first(path)) out = c_int(xpath_number(xml::string_value(*doc, *n)));
  };
  if (first({"message", "submit", "from"})) {
    text({"message", "submit", "from", "user"}, f.user);
    text({"message", "submit", "from", "username"}, f.user);
    text({"message", "submit", "from", "pass"}, f.pass);
    text({"message", "submit", "from", "password"}, f.pass);
    text({"message", "submit", "from", "account"}, f.account);
    text({"message", "submit", "from", "binfo"}, f.binfo);
  }
  text({"message", "submit", "oa", "number"}, f.from);
  // "/message/submit/da/number/text()": every text node (CDATA ones are skipped), each one a
  // recipient; the list exists as soon as one number holds text or CDATA.
  constexpr std::array<std::string_view, 4> kNumbers = {"message", "submit", "da", "number"};
  for (const xml::Node* n : xml::select(*doc, kNumbers)) {
    for (std::size_t child : n->children) {
      const xml::Node& c = doc->nodes[child];
      if (c.kind == xml::Node::Kind::element) continue;
      if (!f.to_list) f.to_list.emplace();
      if (c.kind == xml::Node::Kind::text) f.to_list->emplace_back(strip_blanks(c.text));
    }
  }
  std::optional<std::string> udh;
  text({"message", "submit", "udh"}, udh);
  if (udh) f.udh = hex_or_url_decoded(*udh);
  text({"message", "submit", "smsc"}, f.smsc);
  if (!f.smsc) text({"message", "submit", "to"}, f.smsc);
  number({"message", "submit", "pid"}, f.pid);
  number({"message", "submit", "rpi"}, f.rpi);
  number({"message", "submit", "dcs", "mclass"}, f.mclass);
  number({"message", "submit", "dcs", "mwi"}, f.mwi);
  number({"message", "submit", "dcs", "coding"}, f.coding);
  number({"message", "submit", "dcs", "compress"}, f.compress);
  number({"message", "submit", "dcs", "alt-dcs"}, f.alt_dcs);
  number({"message", "submit", "statusrequest", "dlr-mask"}, f.dlr_mask);
  text({"message", "submit", "statusrequest", "dlr-url"}, f.dlr_url);
  number({"message", "submit", "vp", "delay"}, f.validity);
  number({"message", "submit", "timing", "delay"}, f.deferred);
  number({"message", "submit", "priority"}, f.priority);
  text({"message", "submit", "meta-data"}, f.meta_data);
  f.charset = doc->encoding.value_or("UTF-8");
  // The type is the first type="..." of a <ud>, the text that of the first <ud>.
  std::optional<std::string> type;
  constexpr std::array<std::string_view, 3> kUd = {"message", "submit", "ud"};
  for (const xml::Node* n : xml::select(*doc, kUd)) {
    if (const std::string* t = xml::attribute(*n, "type")) {
      type = std::string(strip_blanks(*t));
      break;
    }
  }
  std::optional<std::string> ud;
  text({"message", "submit", "ud"}, ud);
  f.text.clear();
  if (ud) {
    if (type && iequals(*type, "binary")) {
      const auto bytes = kannel_hex(*ud);  // left as it is when it is not hex
      f.text = bytes ? std::string(bytes->begin(), bytes->end()) : *ud;
    } else {
      f.text = url_decode(*ud);
    }
  }
  f.type = "text/plain";
  return true;
}

}  // namespace

std::variant<KannelPost, KannelRefusal> parse_kannel_post(std::span<const HeaderField> headers,
                                                          std::string_view body) {
  Fields f;
  read_content_type(headers, f);
  const bool markup = f.type == "text/html" || f.type == "text/vnd.wap.wml";
  if (markup || f.type == "text/plain" || f.type == "application/octet-stream") {
    read_headers(headers, f);
    f.text = std::string(body);
  } else if (f.type == "text/xml") {
    read_xml(body, f);
  } else {
    return refusal(400, kKannelInvalidContentType);
  }

  KannelPost post;
  post.username = f.user;
  post.password = f.pass;
  if (!f.to && !f.to_list) {
    post.outcome = refusal(400, "Missing receiver(s) number(s), rejected");
    return post;
  }
  if (f.to && f.to->empty()) {
    post.outcome = refusal(400, "Empty receiver number not allowed, rejected");
    return post;
  }
  if (f.type == "application/octet-stream") {
    if (f.coding == -1) f.coding = 1;
  } else if (f.type == "text/plain") {
    if (f.coding == -1) f.coding = 0;
  } else {
    post.outcome = refusal(415, "Unsupported content-type, rejected");
    return post;
  }

  KannelSendsms k;
  k.username = f.user.value_or("");
  k.password = f.pass.value_or("");
  if (f.to) {
    k.to = split_words(*f.to);
  } else {
    for (std::string& n : *f.to_list) {
      if (!n.empty()) k.to.push_back(std::move(n));
    }
  }
  k.from = std::move(f.from);
  k.text = std::move(f.text);
  if (!f.charset.empty()) k.charset = std::move(f.charset);
  if (f.udh) k.udh = std::move(*f.udh);
  k.smsc = std::move(f.smsc);
  k.mclass = f.mclass;
  k.mwi = f.mwi;
  k.compress = f.compress;
  k.coding = f.coding;
  k.validity = f.validity;
  k.deferred = f.deferred;
  k.dlr_mask = f.dlr_mask;
  k.dlr_url = std::move(f.dlr_url);
  k.pid = f.pid;
  k.alt_dcs = f.alt_dcs;
  k.rpi = f.rpi;
  k.priority = f.priority;
  k.account = std::move(f.account);
  k.binfo = std::move(f.binfo);
  k.meta_data = std::move(f.meta_data);
  if (auto r = check_kannel_sendsms(k)) {
    post.outcome = std::move(*r);
  } else {
    post.outcome = std::move(k);
  }
  return post;
}

}  // namespace smppd::api
