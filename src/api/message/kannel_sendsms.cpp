#include "api/message/kannel_sendsms.hpp"

#include <iconv.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <map>

#include "api/message/decoding.hpp"
#include "core/utf8.hpp"
#include "smpp/text.hpp"

namespace smppd::api {

namespace {

constexpr std::size_t kMaxUdh = 140;
constexpr std::size_t kMaxAccount = 64;
constexpr std::size_t kMaxText = 64 * 1024;  // far beyond any message: refused as too long later

KannelRefusal bad(std::string_view body) {
  return KannelRefusal{400, std::string(body)};
}

// `text` in `charset` converted to `to` ("UTF-8" or "UTF-16BE") with the C library's iconv;
// nothing when the charset is unknown or the text is not in it.
std::optional<std::string> convert(const std::string& text, const std::string& charset,
                                   const char* to) {
  iconv_t cd = iconv_open(to, charset.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) return std::nullopt;
  std::string out(text.size() * 4 + 16, '\0');
  char* in = const_cast<char*>(text.data());
  std::size_t in_left = text.size();
  char* o = out.data();
  std::size_t out_left = out.size();
  const std::size_t r = iconv(cd, &in, &in_left, &o, &out_left);
  iconv_close(cd);
  if (r == static_cast<std::size_t>(-1) || in_left != 0) return std::nullopt;
  out.resize(out.size() - out_left);
  return out;
}

// A number of `to` or `from` as an address: digits, '-' dropped, a leading '+' international.
std::optional<Address> number(std::string_view s) {
  Address a;
  std::size_t i = 0;
  if (!s.empty() && s[0] == '+') {
    a.ton = ton::kInternational;
    i = 1;
  }
  for (; i < s.size(); ++i) {
    if (s[i] == '-') continue;
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt;
    a.value += s[i];
  }
  if (a.value.empty() || a.value.size() > 20) return std::nullopt;
  return a;
}

}  // namespace

std::variant<KannelSendsms, KannelRefusal> parse_kannel_sendsms(std::string_view query) {
  // First occurrence of each name wins.
  std::map<std::string, std::string, std::less<>> args;
  std::size_t pos = 0;
  while (pos <= query.size()) {
    std::size_t end = query.find('&', pos);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view pair = query.substr(pos, end - pos);
    if (!pair.empty()) {
      const std::size_t eq = pair.find('=');
      std::string name = url_decode(pair.substr(0, eq));
      std::string value =
          eq == std::string_view::npos ? std::string() : url_decode(pair.substr(eq + 1));
      args.emplace(std::move(name), std::move(value));
    }
    pos = end + 1;
  }
  auto get = [&](std::string_view name, std::string_view alias = {}) -> const std::string* {
    auto it = args.find(name);
    if (it == args.end() && !alias.empty()) it = args.find(alias);
    return it == args.end() ? nullptr : &it->second;
  };
  auto integer = [&](std::string_view name, std::string_view alias = {}) {
    const std::string* v = get(name, alias);
    return v == nullptr ? -1 : scan_c_int(*v).value_or(-1);
  };

  KannelSendsms k;
  if (const auto* v = get("username", "user")) k.username = *v;
  if (const auto* v = get("password", "pass")) k.password = *v;
  const std::string* to = get("to");
  if (to == nullptr) return bad("Missing receiver number, rejected");
  k.to = split_words(*to);
  if (k.to.empty()) return bad("Empty receiver number not allowed, rejected");
  if (const auto* v = get("from")) k.from = *v;
  if (const auto* v = get("text")) k.text = *v;
  if (const auto* v = get("charset")) k.charset = *v;
  if (const auto* v = get("udh")) k.udh.assign(v->begin(), v->end());
  if (const auto* v = get("smsc")) k.smsc = *v;
  k.mclass = integer("mclass");
  k.mwi = integer("mwi");
  k.compress = integer("compress");
  k.coding = integer("coding");
  k.validity = integer("validity");
  k.deferred = integer("deferred");
  k.dlr_mask = integer("dlr-mask", "dlrmask");
  if (const auto* v = get("dlr-url", "dlrurl")) k.dlr_url = *v;
  k.pid = integer("pid");
  k.alt_dcs = integer("alt-dcs");
  k.rpi = integer("rpi");
  if (const auto* v = get("account")) k.account = *v;
  if (const auto* v = get("binfo")) k.binfo = *v;
  k.priority = integer("priority");
  if (const auto* v = get("meta-data")) k.meta_data = *v;
  if (auto refusal = check_kannel_sendsms(k)) return std::move(*refusal);
  return k;
}

std::optional<KannelRefusal> check_kannel_sendsms(KannelSendsms& k) {
  // A UDH's first octet counts the octets after it.
  if (!k.udh.empty() && k.udh.size() != std::size_t{k.udh[0]} + 1) {
    return bad("UDH field misformed, rejected");
  }
  if (k.udh.size() > kMaxUdh) return bad("UDH field is too long, rejected");
  if (k.to.empty()) {
    return bad("Number(s) has/have been denied by white/black lists, or allowed/denied rules.");
  }
  if (!k.from || k.from->empty()) return bad("Sender missing and no global set, rejected");
  if (k.account && k.account->empty()) k.account.reset();
  if (k.account && (k.account->size() > kMaxAccount ||
                    k.account->find_first_of("[]\n\r") != std::string::npos)) {
    return bad("Account field misformed or too long, rejected");
  }
  if (k.binfo && k.binfo->empty()) k.binfo.reset();
  if (k.dlr_url && k.dlr_url->empty()) k.dlr_url.reset();
  if (k.dlr_url) {
    // At least "http(s)://" and one more character, the scheme in any case.
    const std::string_view url = *k.dlr_url;
    if (url.size() < 8 ||
        (!iequals(url.substr(0, 7), "http://") && !iequals(url.substr(0, 8), "https://"))) {
      return bad("DLR-URL field misformed, rejected");
    }
  }
  if (k.dlr_mask < -1 || k.dlr_mask > 66) return bad("DLR-Mask field misformed, rejected");
  if (k.mclass < -1 || k.mclass > 3) return bad("MClass field misformed, rejected");
  if (k.pid < -1 || k.pid > 255) return bad("PID field misformed, rejected");
  if (k.rpi < -1 || k.rpi > 2) return bad("RPI field misformed, rejected");
  if (k.alt_dcs < -1 || k.alt_dcs > 1) return bad("Alt-DCS field misformed, rejected");
  if (k.mwi < -1 || k.mwi > 7) return bad("MWI field misformed, rejected");
  if (k.coding < -1 || k.coding > 2) return bad("Coding field misformed, rejected");
  if (k.compress < -1 || k.compress > 1) return bad("Compress field misformed, rejected");
  if (k.validity < -1) return bad("Validity field misformed, rejected");
  if (k.deferred < -1) return bad("Deferred field misformed, rejected");
  if (k.priority < -1 || k.priority > 3) return bad("Priority field misformed, rejected");
  if (k.text.size() > kMaxText) return bad("Charset or body misformed, rejected");
  return std::nullopt;
}

std::variant<MessageRequest, KannelRefusal> kannel_to_request(const KannelSendsms& k,
                                                              std::chrono::sys_seconds now) {
  MessageRequest m;
  for (const std::string& t : k.to) {
    if (auto a = number(t)) m.to.push_back(std::move(*a));
  }
  if (m.to.empty()) {
    return bad("Number(s) has/have been denied by white/black lists, or allowed/denied rules.");
  }
  m.to_was_list = k.to.size() > 1;
  if (auto a = number(*k.from)) {
    m.from = std::move(*a);
  } else {
    // Alphanumeric: what an SMSC takes as a name (printable ASCII, at most 11 characters).
    const std::string& f = *k.from;
    const bool printable =
        std::all_of(f.begin(), f.end(), [](unsigned char c) { return c >= 0x20 && c < 0x7F; });
    if (!printable || f.size() > 11) return bad("Sender missing and no global set, rejected");
    m.from.value = f;
    m.from.ton = ton::kAlphanumeric;
    m.from.npi = npi::kUnknown;
  }
  const int coding = k.coding >= 0 ? k.coding : (k.udh.empty() ? 0 : 1);
  if (!k.udh.empty() && coding != 1) {
    // smppd builds its own UDH for long texts; a caller's UDH goes with 8-bit data only.
    return bad("UDH field misformed, rejected");
  }
  const KannelRefusal misformed = bad("Charset or body misformed, rejected");
  if (coding == 1) {
    m.alphabet = smpp::Alphabet::binary;
    m.data_coding = smpp::data_coding_for(smpp::Alphabet::binary);
    m.payload.assign(k.text.begin(), k.text.end());
    m.udh = k.udh;
    if (m.udh.size() + m.payload.size() > kMaxUdh) {
      return bad("UDH field is too long, rejected");  // one part: a caller's UDH is not split
    }
  } else if (coding == 2) {
    std::string utf16 = k.text;
    if (k.charset) {
      auto c = convert(k.text, *k.charset, "UTF-16BE");
      if (!c) return misformed;
      utf16 = std::move(*c);
    }
    if (utf16.size() % 2 != 0) return misformed;
    m.alphabet = smpp::Alphabet::ucs2;
    m.data_coding = smpp::data_coding_for(smpp::Alphabet::ucs2);
    m.payload.assign(utf16.begin(), utf16.end());
    m.text = smpp::ucs2_to_utf8({m.payload.data(), m.payload.size()}).text;
  } else {
    std::string utf8 = k.text;
    if (k.charset) {
      auto c = convert(k.text, *k.charset, "UTF-8");
      if (!c) return misformed;
      utf8 = std::move(*c);
    }
    if (!utf8::valid(utf8)) return misformed;
    smpp::EncodedBytes gsm = smpp::utf8_to_gsm7(utf8);
    if (!gsm.ok()) return misformed;
    m.alphabet = smpp::Alphabet::gsm7;
    m.data_coding = smpp::data_coding_for(smpp::Alphabet::gsm7);
    m.payload = std::move(gsm.bytes);
    m.text = std::move(utf8);
  }
  // mclass (and alt-dcs) as Kannel's fields_to_dcs writes them: a message class in the general
  // data coding group (0x10 | coding << 2 | class), or with alt-dcs the 0xF0 group (7-bit and
  // 8-bit only); playSMS sends mclass=0 for a flash message.
  if (k.mclass >= 0) {
    m.data_coding = k.alt_dcs == 1 && coding != 2
                        ? static_cast<uint8_t>(0xF0 | (coding == 1 ? 0x04 : 0x00) | k.mclass)
                        : static_cast<uint8_t>(0x10 | (coding << 2) | k.mclass);
  }
  // binfo goes in service_type (smsc_smpp.c), pid in protocol_id, rpi=1 sets the reply path.
  if (k.binfo) {
    if (k.binfo->size() > 5) return bad("BInfo field misformed, rejected");
    m.service_type = *k.binfo;
  }
  if (k.pid >= 0) m.protocol_id = static_cast<uint8_t>(k.pid);
  m.reply_path = k.rpi == 1;
  // DLR bits 1 (delivered) and 2 (not delivered): a final receipt.
  m.registered_delivery = k.dlr_mask > 0 && (k.dlr_mask & 3) != 0;
  // Kannel's priority (0-3) is SMPP's priority_flag (smsc_smpp.c).
  if (k.priority > 0) m.priority_flag = static_cast<uint8_t>(k.priority);
  if (k.deferred > 0) m.schedule_at = now + std::chrono::minutes(k.deferred);
  if (k.validity > 0) m.expires_at = now + std::chrono::minutes(k.validity);
  m.callback_url = k.dlr_url;
  if (k.account) m.client_ref = k.account;
  return m;
}

}  // namespace smppd::api
