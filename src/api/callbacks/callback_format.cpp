#include "api/callbacks/callback_format.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>

#include "core/utf8.hpp"
#include "smpp/text.hpp"

namespace smppd::callbacks {

namespace json = boost::json;

namespace {

std::string hex(const unsigned char* p, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[p[i] >> 4]);
    out.push_back(kDigits[p[i] & 0x0F]);
  }
  return out;
}

std::string hex(const std::vector<uint8_t>& v) { return hex(v.data(), v.size()); }

// What a peer sent, as valid UTF-8 (a byte outside a valid sequence becomes U+FFFD): it goes
// into JSON bodies.
std::string clean(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  utf8::append_replacing_invalid(v, out, [](char c, std::string& o) { o.push_back(c); });
  return out;
}

template <class Sm>
void addresses(const Sm& sm, ReceiptFacts& r) {
  r.to = clean(sm.source_addr.view());
  r.from = clean(sm.destination_addr.view());
}

// The Appendix B text of a receipt (short_message, else message_payload).
template <class Sm>
std::string receipt_text_of(const Sm& sm) {
  std::string_view text;
  if constexpr (requires { sm.short_message; }) text = sm.short_message.view();
  if (text.empty()) {
    if (const auto p = sm.tlvs.find(smpp::tlv::message_payload.tag)) {
      text = std::string_view(reinterpret_cast<const char*>(p->data()), p->size());
    }
  }
  // Printable only: it goes into URLs and JSON.
  std::string out;
  for (char c : text.substr(0, 512)) {
    out.push_back((static_cast<unsigned char>(c) >= 0x20 && c != 0x7F) ? c : ' ');
  }
  return clean(out);
}

int64_t unix_of(const std::optional<smpp::SmppTime>& t) {
  return t ? t->to_unix_seconds() : 0;
}

std::string_view state_word(smpp::MessageState s) {
  using smpp::MessageState;
  switch (s) {
    case MessageState::scheduled: return "scheduled";
    case MessageState::enroute: return "enroute";
    case MessageState::delivered: return "delivered";
    case MessageState::expired: return "expired";
    case MessageState::deleted: return "deleted";
    case MessageState::undeliverable: return "undeliverable";
    case MessageState::accepted: return "accepted";
    case MessageState::unknown: return "unknown";
    case MessageState::rejected: return "rejected";
    case MessageState::skipped: return "skipped";
  }
  return "unknown";
}

}  // namespace

std::optional<ReceiptFacts> receipt_facts(const smpp::Pdu& pdu) {
  std::optional<smpp::Receipt> receipt;
  ReceiptFacts r;
  if (const auto* d = pdu.as<smpp::DeliverSm>()) {
    receipt = smpp::parse_receipt(*d);
    addresses(*d, r);
    r.receipt_text = receipt_text_of(*d);
  } else if (const auto* ds = pdu.as<smpp::DataSm>()) {
    receipt = smpp::parse_receipt(*ds);
    addresses(*ds, r);
    r.receipt_text = receipt_text_of(*ds);
  }
  if (!receipt) return std::nullopt;
  r.message_id = clean(receipt->id);
  r.state = receipt->state;
  r.final = receipt->kind == smpp::ReceiptKind::delivery_receipt && smpp::is_final(r.state);
  r.stat = receipt->stat.empty() ? std::string(smpp::stat_word(r.state)) : clean(receipt->stat);
  r.err = clean(receipt->err);
  r.sub = clean(receipt->sub);
  r.dlvrd = clean(receipt->dlvrd);
  r.submit_date = clean(receipt->submit_date);
  r.done_date = clean(receipt->done_date);
  r.text = clean(receipt->text);
  r.submit_unix = unix_of(receipt->submit_time());
  r.done_unix = unix_of(receipt->done_time());
  return r;
}

std::optional<std::string> mo_text(const std::vector<uint8_t>& payload, uint8_t data_coding) {
  const smpp::DecodedText t = smpp::decode_message(payload, data_coding);
  if (!t.ok()) return std::nullopt;
  return t.text;
}

std::string iso8601_utc(int64_t unix_seconds) {
  const std::chrono::sys_seconds at{std::chrono::seconds(unix_seconds)};
  const auto day = std::chrono::floor<std::chrono::days>(at);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss hms{at - day};
  char out[32];
  std::snprintf(out, sizeof out, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return out;
}

std::string receipt_json(const ReceiptFacts& r, std::string_view client_ref,
                         std::string_view smsc_id, std::string_view upstream) {
  json::object o;
  o["event"] = "receipt";
  o["message_id"] = r.message_id;
  if (!client_ref.empty()) o["client_ref"] = clean(client_ref);
  o["to"] = r.to;
  o["from"] = r.from;
  o["state"] = state_word(r.state);
  o["stat"] = r.stat;
  o["final"] = r.final;
  o["error"] = r.err;
  if (r.submit_unix != 0) o["submitted_at"] = iso8601_utc(r.submit_unix);
  if (r.done_unix != 0) o["done_at"] = iso8601_utc(r.done_unix);
  if (!smsc_id.empty()) o["smsc_id"] = clean(smsc_id);
  if (!upstream.empty()) o["upstream"] = upstream;
  o["receipt"] = r.receipt_text;
  return json::serialize(o);
}

std::string mo_json(const MoFacts& m) {
  json::object o;
  o["event"] = "mo";
  o["from"] = clean(m.from);
  o["to"] = clean(m.to);
  if (m.text) {
    o["text"] = clean(*m.text);
  } else {
    o["text"] = nullptr;
  }
  o["data_coding"] = m.data_coding;
  o["hex"] = hex(m.payload);
  if (!m.upstream.empty()) o["upstream"] = m.upstream;
  o["received_at"] = iso8601_utc(m.received_unix_ms / 1000);
  o["parts"] = m.parts;
  if (m.incomplete) o["incomplete"] = true;
  return json::serialize(o);
}

std::string random_uuid() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) std::fill(std::begin(b), std::end(b), 0);
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
  const std::string h = hex(b, sizeof b);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &n);
  return hex(out, n);
}

std::string signature(std::string_view secret, int64_t timestamp, std::string_view body) {
  std::string signed_text = std::to_string(timestamp);
  signed_text.push_back('.');
  signed_text.append(body);
  return "sha256=" + hmac_sha256_hex(secret, signed_text);
}

std::string url_encode(std::string_view v) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(v.size() * 3);
  for (char ch : v) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) != 0 || std::string_view("-_.!~*'()").find(ch) != std::string_view::npos) {
      out.push_back(ch);
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 0x0F]);
    }
  }
  return out;
}

std::string form_encode(const Fields& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out.push_back('&');
    out += url_encode(name);
    out.push_back('=');
    out += url_encode(value);
  }
  return out;
}

std::string with_query(std::string_view url, std::string_view query) {
  std::string out(url);
  if (query.empty()) return out;
  const std::size_t hash = out.find('#');
  if (hash != std::string::npos) out.resize(hash);
  if (out.find('?') == std::string::npos) {
    out.push_back('?');
  } else if (out.back() != '?' && out.back() != '&') {
    out.push_back('&');
  }
  out.append(query);
  return out;
}

int kannel_dlr_type(smpp::MessageState state, bool final) {
  if (!final) return 4;
  return state == smpp::MessageState::delivered ? 1 : 2;
}

namespace {

std::vector<std::string_view> words(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])) != 0) ++i;
    const std::size_t start = i;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])) == 0) ++i;
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}

std::string kannel_time(int64_t unix_seconds) {
  // "YYYY-MM-DD HH:MM:SS" in GMT, URL-encoded (the space a '+').
  std::string t = iso8601_utc(unix_seconds);
  t.pop_back();  // Z
  t[10] = ' ';
  return t;
}

// %q / %Q: a leading "00" becomes "+" (encoded %2B).
std::string plus_form(std::string_view number) {
  if (number.substr(0, 2) == "00") return "%2B" + url_encode(number.substr(2));
  return url_encode(number);
}

}  // namespace

std::string kannel_expand(std::string_view pattern, const KannelDlr& d) {
  std::string out;
  out.reserve(pattern.size() + 64);
  const std::vector<std::string_view> w = words(d.data);
  std::size_t next_word = 1;  // %s takes the words after the keyword in turn
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '%' || i + 1 == pattern.size()) {
      out.push_back(pattern[i]);
      continue;
    }
    const char code = pattern[++i];
    switch (code) {
      case 'k':
        if (!w.empty()) out += url_encode(w[0]);
        break;
      case 's':
        if (next_word < w.size()) out += url_encode(w[next_word++]);
        break;
      case 'S':
        if (next_word < w.size()) {
          std::string v(w[next_word++]);
          for (char& c : v) {
            if (c == '*') c = '~';
          }
          out += v;
        }
        break;
      case 'r': {
        std::string rest;
        for (std::size_t k = next_word; k < w.size(); ++k) {
          if (!rest.empty()) rest.push_back(' ');
          rest.append(w[k]);
        }
        out += url_encode(rest);
        break;
      }
      case 'a': {
        std::string all;
        for (std::size_t k = 0; k < w.size(); ++k) {
          if (k > 0) all.push_back('+');
          all += url_encode(w[k]);
        }
        out += all;
        break;
      }
      case 'A':
      case 'b':
        out += url_encode(d.data);
        break;
      case 'e': {
        out += hex(reinterpret_cast<const unsigned char*>(d.data.data()), d.data.size());
        break;
      }
      case 't':
        out += url_encode(kannel_time(d.unix_seconds));
        break;
      case 'T':
        out += std::to_string(d.unix_seconds);
        break;
      case 'p':
        out += url_encode(d.receiver);
        break;
      case 'P':
        out += url_encode(d.sender);
        break;
      case 'q':
        out += plus_form(d.receiver);
        break;
      case 'Q':
        out += plus_form(d.sender);
        break;
      case 'i':
        out += url_encode(d.smsc);
        break;
      case 'I':
        out += url_encode(d.uuid);
        break;
      case 'd':
        out += std::to_string(d.type);
        break;
      case 'R':
        out += url_encode(d.dlr_url);
        break;
      case 'D':
        out += url_encode(d.meta);
        break;
      case 'F':
        out += url_encode(d.smsc_id);
        break;
      case 'n':
        out += url_encode(d.username);
        break;
      case 'o':
        out += url_encode(d.account);
        break;
      case 'B':
        out += url_encode(d.err);
        break;
      case 'c':
      case 'C':
      case 'm':
      case 'M':
      case 'y':
      case 'u':
      case 'U':
      case 'O':
      case 'f':
      case 'x':
      case 'v':
      case 'V':
        break;  // not set for a DLR
      case '%':
        out.push_back('%');
        break;
      default:
        out.push_back('%');
        out.push_back(code);
        break;
    }
  }
  return out;
}

Fields jasmin_level1(std::string_view id, std::string_view status_name,
                     std::string_view connector) {
  return {{"id", std::string(id)},
          {"message_status", std::string(status_name)},
          {"level", "1"},
          {"connector", std::string(connector)}};
}

Fields jasmin_level2(std::string_view id, std::string_view smsc_id, const ReceiptFacts& r,
                     std::string_view connector) {
  return {{"id", std::string(id)},
          {"id_smsc", std::string(smsc_id)},
          {"message_status", r.stat},
          {"level", "2"},
          {"connector", std::string(connector)},
          {"subdate", r.submit_date},
          {"donedate", r.done_date},
          {"sub", r.sub},
          {"dlvrd", r.dlvrd},
          {"err", r.err},
          {"text", r.text}};
}

bool jasmin_acknowledged(unsigned status, std::string_view body) {
  if (status == 0 || status >= 400) return false;
  while (!body.empty() && std::isspace(static_cast<unsigned char>(body.front())) != 0) {
    body.remove_prefix(1);
  }
  while (!body.empty() && std::isspace(static_cast<unsigned char>(body.back())) != 0) {
    body.remove_suffix(1);
  }
  return body == "ACK/Jasmin";
}

}  // namespace smppd::callbacks
