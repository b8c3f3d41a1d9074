#include "middleware/transform.hpp"

#include <boost/regex.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <iterator>
#include <type_traits>

#include "config/message_rule.hpp"
#include "smpp/segment.hpp"
#include "smpp/split.hpp"
#include "smpp/status.hpp"
#include "smpp/text.hpp"
#include "smpp/tlv.hpp"

namespace smppd::middleware {

using config::MessageField;
namespace st = smpp::status;

struct Transform::Rule {
  struct Matcher {
    MessageField field;
    // The regex runs only when the value starts with `prefix` (the pattern's literal start),
    // and not at all when the pattern is a plain literal (`literal_only`: equality). Most rules
    // match a client name, a service_type or a number prefix: a compare rejects or accepts
    // those before a regex engine is entered (bench/transform_bench.cpp measures the three).
    std::string prefix;
    bool literal_only = false;
    boost::regex re;
    bool matches(std::string_view value) const {
      if (literal_only) return value == prefix;
      if (!value.starts_with(prefix)) return false;
      try {
        return boost::regex_match(value.begin(), value.end(), re);
      } catch (const std::exception&) {
        // Boost.Regex gives up (std::runtime_error) when a pattern would backtrack without
        // bound on a client's text: taken as no match, never an exception on the data path.
        return false;
      }
    }
  };
  struct Write {
    MessageField field;
    std::optional<config::MessageTemplate> tmpl;  // transform; else `literal` (set)
    std::string literal;
    uint8_t number = 0;  // set of a numeric field
  };

  std::string name;  // "rule #2"
  std::vector<Matcher> match;
  std::vector<Write> writes;  // strings first, then numbers: a set TON wins over a '+'
  bool reads_text = false;    // matches on short_message, or a template reads it
  bool writes_text = false;   // writes short_message or data_coding
  bool about_destination = false;
  bool has_templates = false;
};

LiteralPrefix literal_prefix(std::string_view pattern) {
  LiteralPrefix out;
  if (pattern.starts_with('^')) pattern.remove_prefix(1);
  // An alternation anywhere could match without the first branch's start.
  if (pattern.find('|') != std::string_view::npos) return out;
  static constexpr std::string_view kMeta = "\\.[](){}*+?^$|";
  std::size_t i = 0;
  while (i < pattern.size() && kMeta.find(pattern[i]) == std::string_view::npos) ++i;
  out.prefix = std::string(pattern.substr(0, i));
  const std::string_view rest = pattern.substr(i);
  if (rest.empty() || rest == "$") {
    out.literal_only = true;
    return out;
  }
  // "ab*", "ab?", "ab{0,2}": the last literal character is optional or repeated.
  if (!out.prefix.empty() &&
      std::string_view("*+?{").find(rest.front()) != std::string_view::npos) {
    out.prefix.pop_back();
  }
  return out;
}

Transform::Transform(const std::vector<config::TransformRule>& rules,
                     const config::MultipartConfig& multipart)
    : multipart_(multipart) {
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const config::TransformRule& rule = rules[i];
    Rule r;
    r.name = "rule #" + std::to_string(i + 1);
    auto destination = [](MessageField f) {
      return f == MessageField::destination_addr || f == MessageField::dest_addr_ton ||
             f == MessageField::dest_addr_npi;
    };
    // Checked by the loader (config::check_message_regex, parse_message_template): a rule
    // that fails here did not come through it, and throws as any bad configuration does.
    for (const auto& [name, pattern] : rule.match) {
      Rule::Matcher m;
      m.field = *config::parse_message_field(name);
      LiteralPrefix lp = literal_prefix(pattern);
      m.prefix = std::move(lp.prefix);
      m.literal_only = lp.literal_only;
      if (!m.literal_only) m.re = boost::regex(pattern, boost::regex::perl);
      r.reads_text |= m.field == MessageField::short_message;
      r.about_destination |= destination(m.field);
      r.match.push_back(std::move(m));
    }
    std::vector<Rule::Write> numbers;
    for (const auto& [name, value] : rule.set) {
      Rule::Write w{*config::parse_message_field(name), std::nullopt, value, 0};
      if (config::is_numeric(w.field)) {
        auto n = config::parse_integer(value, 0, 255);
        w.number = static_cast<uint8_t>(std::get<0>(n));
        numbers.push_back(std::move(w));
      } else {
        r.writes.push_back(std::move(w));
      }
    }
    for (const auto& [name, text] : rule.transform) {
      Rule::Write w{*config::parse_message_field(name),
                    std::get<0>(config::parse_message_template(text)),
                    {},
                    0};
      for (const auto& piece : w.tmpl->pieces) {
        if (!piece.field) continue;
        r.reads_text |= *piece.field == MessageField::short_message;
        r.about_destination |= destination(*piece.field);
      }
      r.writes.push_back(std::move(w));
      r.has_templates = true;
    }
    for (auto& w : numbers) r.writes.push_back(std::move(w));
    for (const auto& w : r.writes) {
      r.writes_text |=
          w.field == MessageField::short_message || w.field == MessageField::data_coding;
      r.about_destination |= destination(w.field);
    }
    rules_.push_back(std::move(r));
  }
}

Transform::~Transform() = default;

namespace {

template <class M>
constexpr bool kHasDestination = !std::is_same_v<std::remove_const_t<M>, smpp::SubmitMulti>;
template <class M>
constexpr bool kHasShortMessage = !std::is_same_v<std::remove_const_t<M>, smpp::DataSm>;
template <class M>
constexpr bool kHasPriority = !std::is_same_v<std::remove_const_t<M>, smpp::DataSm>;

// The octet a numeric field is in, or null when this PDU has no such field.
template <class M>
auto number_of(M& m, MessageField f) -> decltype(&m.esm_class) {
  switch (f) {
    case MessageField::source_addr_ton:
      return &m.source_addr_ton;
    case MessageField::source_addr_npi:
      return &m.source_addr_npi;
    case MessageField::dest_addr_ton:
      if constexpr (kHasDestination<M>) return &m.dest_addr_ton;
      break;
    case MessageField::dest_addr_npi:
      if constexpr (kHasDestination<M>) return &m.dest_addr_npi;
      break;
    case MessageField::registered_delivery:
      return &m.registered_delivery;
    case MessageField::data_coding:
      return &m.data_coding;
    case MessageField::esm_class:
      return &m.esm_class;
    case MessageField::priority_flag:
      if constexpr (kHasPriority<M>) return &m.priority_flag;
      break;
    case MessageField::protocol_id:
      if constexpr (kHasPriority<M>) return &m.protocol_id;
      break;
    default:
      break;
  }
  return nullptr;
}

// The message's text as the rules see it: decoded once, when a rule first needs it, then the
// working copy that rules rewrite; encoded and placed once, after the last rule.
struct Text {
  bool loaded = false;
  std::optional<std::string_view> unavailable;  // why there is no text to rewrite
  std::string text;                             // UTF-8
  bool in_payload = false;
  uint8_t data_coding = 0;  // the coding to encode in (the message's, or the one a rule set)
  bool dirty = false;
  std::string writer;  // the last rule that wrote it, with the field (for a rejection)
};

template <class M>
void load_text(const M& m, Text& t) {
  if (t.loaded) return;
  t.loaded = true;
  t.data_coding = m.data_coding;
  std::span<const uint8_t> bytes;
  const auto payload = m.tlvs.find(smpp::tlv::message_payload.tag);
  if constexpr (kHasShortMessage<M>) {
    t.in_payload = m.short_message.empty() && payload.has_value();
    bytes = t.in_payload ? *payload : m.short_message.bytes();
  } else {
    t.in_payload = true;
    if (payload) bytes = *payload;
  }
  if ((m.esm_class & smpp::esm_class::kUdhi) != 0) {
    const smpp::Udh udh = smpp::parse_udh(bytes);
    t.unavailable = udh.ok() && udh.concat ? "part" : "udh";
    return;
  }
  bool partial = false;
  if (smpp::sar_concat(m.tlvs, &partial) || partial) {
    t.unavailable = "part";
    return;
  }
  smpp::DecodedText d = smpp::decode_message(bytes, m.data_coding);
  if (!d.ok()) {
    t.unavailable = d.error == smpp::TextError::not_text ? "binary" : "undecodable";
    return;
  }
  t.text = std::move(d.text);
}

// A field's value as text, or nothing when the message has no such field (or no text).
template <class M>
std::optional<std::string_view> value_of(const M& m, MessageField f, std::string_view client,
                                         const Text& text, std::array<char, 4>& digits) {
  switch (f) {
    case MessageField::client:
      return client;
    case MessageField::source_addr:
      return m.source_addr.view();
    case MessageField::destination_addr:
      if constexpr (kHasDestination<M>) return m.destination_addr.view();
      return std::nullopt;
    case MessageField::service_type:
      return m.service_type.view();
    case MessageField::short_message:
      if (!text.loaded || text.unavailable) return std::nullopt;
      return std::string_view(text.text);
    default:
      break;
  }
  const uint8_t* n = number_of(m, f);
  if (n == nullptr) return std::nullopt;
  auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), *n);
  return std::string_view(digits.data(), static_cast<std::size_t>(end - digits.data()));
}

template <class M>
void render(const config::MessageTemplate& t, const M& m, std::string_view client, const Text& text,
            std::string& out) {
  std::array<char, 4> digits{};
  for (const auto& piece : t.pieces) {
    if (!piece.field) {
      out += piece.literal;
    } else if (auto v = value_of(m, *piece.field, client, text, digits)) {
      out += *v;
    }
  }
}

// "+258841234567": an international number, written as SMPP carries it.
template <class Addr>
bool write_address(Addr& address, uint8_t& ton, uint8_t& npi, std::string_view value) {
  const bool international = value.starts_with('+');
  if (international) value.remove_prefix(1);
  if (!address.assign(value)) return false;
  if (international) {
    ton = 1;  // international
    npi = 1;  // ISDN (E.164)
  }
  return true;
}

struct Encoded {
  std::vector<uint8_t> bytes;
  smpp::Alphabet alphabet = smpp::Alphabet::ucs2;
  uint8_t data_coding = smpp::data_coding::kUcs2;
};

// In `data_coding` when the text fits it, else UCS-2. Latin-1 and IA5 only under their own
// values: 6 and 7 (ISO-8859-5/-8) and the binary codings have no encoder here, so UCS-2.
Encoded encode(const std::string& text, uint8_t data_coding) {
  namespace dc = smpp::data_coding;
  const smpp::Alphabet a = smpp::alphabet_of(data_coding);
  smpp::EncodedBytes e;
  e.error = smpp::TextError::unmappable;
  if (a == smpp::Alphabet::gsm7) {
    e = smpp::utf8_to_gsm7(text);
  } else if (a == smpp::Alphabet::ucs2) {
    e = smpp::utf8_to_ucs2(text);
  } else if (data_coding == dc::kLatin1) {
    e = smpp::utf8_to_latin1(text);
  } else if (data_coding == dc::kIa5) {
    e = smpp::utf8_to_ia5(text);
  }
  if (e.ok()) return {std::move(e.bytes), a, data_coding};
  // Text decoded from the message and UTF-8 from the configuration (libyaml checks it): this
  // cannot fail but on a surrogate code point, which UCS-2 cannot carry either.
  return {smpp::utf8_to_ucs2(text).bytes, smpp::Alphabet::ucs2, dc::kUcs2};
}

}  // namespace

template <class M>
std::optional<Rejection> Transform::apply_to(M& m, std::string_view client, bool parts_allowed,
                                             Rewrite& out) const {
  Text text;
  std::vector<std::string> values;
  for (const Rule& rule : rules_) {
    if constexpr (!kHasDestination<M>) {
      if (rule.about_destination) {
        out.skipped.push_back({rule.name, "submit_multi"});
        continue;
      }
    }
    if (rule.reads_text || rule.writes_text) load_text(m, text);
    if (rule.reads_text && text.unavailable) {
      out.skipped.push_back({rule.name, *text.unavailable});
      continue;
    }
    std::array<char, 4> digits{};
    bool matched = true;
    for (const Rule::Matcher& matcher : rule.match) {
      auto v = value_of(m, matcher.field, client, text, digits);
      if (!v || !matcher.matches(*v)) {
        matched = false;
        break;
      }
    }
    if (!matched) continue;
    ++out.rules_applied;
    // Every template of the rule reads the message as it was before the rule.
    // (`values` is kept across rules and only grows: no allocation for rules of literals.)
    if (rule.has_templates) {
      if (values.size() < rule.writes.size()) values.resize(rule.writes.size());
      for (std::size_t i = 0; i < rule.writes.size(); ++i) {
        values[i].clear();
        if (rule.writes[i].tmpl) render(*rule.writes[i].tmpl, m, client, text, values[i]);
      }
    }
    bool text_skipped = false;
    for (std::size_t i = 0; i < rule.writes.size(); ++i) {
      const Rule::Write& w = rule.writes[i];
      const std::string_view v = w.tmpl ? std::string_view(values[i]) : w.literal;
      auto refuse = [&](uint32_t status) {
        return Rejection{status, "transform",
                         rule.name + " " + std::string(config::to_string(w.field)), std::string(v)};
      };
      switch (w.field) {
        case MessageField::source_addr:
          if (!write_address(m.source_addr, m.source_addr_ton, m.source_addr_npi, v)) {
            return refuse(st::ESME_RINVSRCADR);
          }
          break;
        case MessageField::destination_addr:
          if constexpr (kHasDestination<M>) {
            if (!write_address(m.destination_addr, m.dest_addr_ton, m.dest_addr_npi, v)) {
              return refuse(st::ESME_RINVDSTADR);
            }
          }
          break;
        case MessageField::service_type:
          if (!m.service_type.assign(v)) return refuse(st::ESME_RINVSERTYP);
          break;
        case MessageField::short_message:
        case MessageField::data_coding:
          if (text.unavailable) {
            text_skipped = true;
            break;
          }
          if (w.field == MessageField::short_message) {
            text.text.assign(v);
          } else {
            text.data_coding = w.number;
          }
          text.dirty = true;
          text.writer = rule.name + " " + std::string(config::to_string(w.field));
          break;
        default:
          if (uint8_t* n = number_of(m, w.field)) *n = w.number;
          break;
      }
    }
    if (text_skipped) out.skipped.push_back({rule.name, *text.unavailable});
  }
  if (!text.dirty) return std::nullopt;

  // The text, encoded once, where it came from; segmented when it outgrew one part.
  Encoded e = encode(text.text, text.data_coding);
  auto too_long = [&] {
    return Rejection{st::ESME_RINVMSGLEN, "transform", text.writer,
                     std::to_string(e.bytes.size()) + " octets"};
  };
  constexpr std::size_t kMaxPayload = 65535;
  m.data_coding = e.data_coding;
  if (text.in_payload) {
    if (e.bytes.size() > kMaxPayload) return too_long();
    m.tlvs.set(smpp::tlv::message_payload, e.bytes);
    return std::nullopt;
  }
  if constexpr (kHasShortMessage<M>) {
    smpp::SegmentOptions options;
    options.method = multipart_.segmentation_method == config::SegmentationMethod::sar_tlv
                         ? smpp::ConcatMethod::sar
                         : smpp::ConcatMethod::udh8;
    const uint32_t reference = reference_.fetch_add(1, std::memory_order_relaxed) + 1;
    options.reference = static_cast<uint16_t>(
        options.method == smpp::ConcatMethod::udh8 ? reference & 0xFF : reference & 0xFFFF);
    options.max_parts = multipart_.segmentation_max_parts;
    smpp::Segmented s = smpp::segment(e.bytes, e.alphabet, options);
    if (!s.ok()) return too_long();
    if (!s.concatenated) {
      m.short_message.assign(s.parts.front().bytes);
      return std::nullopt;
    }
    if constexpr (std::is_same_v<M, smpp::SubmitSm>) {
      // multipart.segmentation.enabled: false: smppd never cuts; the text goes whole.
      if (parts_allowed && multipart_.segmentation_enabled) {
        std::vector<smpp::SubmitSm> parts = smpp::make_submits(s, m, e.data_coding);
        m = std::move(parts.front());
        out.more_parts.assign(std::make_move_iterator(parts.begin() + 1),
                              std::make_move_iterator(parts.end()));
        // One receipt asked for the client's one message: by the last part.
        smpp::receipt_on_last_part(m, out.more_parts);
        return std::nullopt;
      }
    }
    // One PDU only: the whole text in message_payload (the SMSC, or smppd towards a 3.3 one,
    // splits it).
    if (e.bytes.size() > kMaxPayload) return too_long();
    m.short_message.clear();
    m.tlvs.set(smpp::tlv::message_payload, e.bytes);
  }
  return std::nullopt;
}

bool Transform::about_text() const {
  return std::any_of(rules_.begin(), rules_.end(),
                     [](const Rule& r) { return r.reads_text || r.writes_text; });
}

std::optional<Rejection> Transform::apply(smpp::Pdu& request, std::string_view client,
                                          bool parts_allowed, Rewrite& out) const {
  if (auto* sm = request.as<smpp::SubmitSm>()) return apply_to(*sm, client, parts_allowed, out);
  if (auto* ds = request.as<smpp::DataSm>()) return apply_to(*ds, client, parts_allowed, out);
  if (auto* multi = request.as<smpp::SubmitMulti>()) {
    return apply_to(*multi, client, parts_allowed, out);
  }
  return std::nullopt;
}

}  // namespace smppd::middleware
