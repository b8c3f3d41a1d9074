#include "smpp/receipt.hpp"

#include <charconv>
#include <cstring>
#include <span>

namespace smpp {

namespace {

constexpr std::size_t npos = std::string_view::npos;

// Separators between receipt fields. NUL counts: some SMSCs pad short_message with it.
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\0';
}
bool is_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_hex_digit(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
char to_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// An id we are willing to carry: 1..kMaxReceiptIdLength printable, non-space ASCII characters.
bool usable_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxReceiptIdLength) return false;
  for (const char c : id) {
    if (c < 0x21 || c > 0x7E) return false;
  }
  return true;
}

enum Field : uint8_t { kId, kSub, kDlvrd, kSubmitDate, kDoneDate, kStat, kErr, kText, kFieldCount };

struct Span {
  std::size_t pos = npos;
  std::size_t len = 0;
  bool found() const { return pos != npos; }
};

struct KeyMatch {
  Field field;
  std::size_t value_start;  // just after the ':'
};

// The run of ASCII letters starting at `i`.
std::string_view letters_at(std::string_view s, std::size_t i) {
  std::size_t j = i;
  while (j < s.size() && is_letter(s[j])) ++j;
  return s.substr(i, j - i);
}

// The keys of a receipt text. "submit" and "done" are keys only with the word "date" after them
// ("submit date", "done_date").
struct KeyWord {
  std::string_view word;  // lower case
  Field field;
  bool needs_date;
};
constexpr KeyWord kKeyWords[] = {
    {"id", kId, false},
    {"sub", kSub, false},
    {"dlvrd", kDlvrd, false},
    {"stat", kStat, false},
    {"err", kErr, false},
    {"text", kText, false},
    {"submitdate", kSubmitDate, false},
    {"donedate", kDoneDate, false},
    {"submit", kSubmitDate, true},
    {"done", kDoneDate, true},
};

// A known key starting at `i` ("id", "Submit date", "done_date", "TEXT", ...) followed by
// optional spaces and ':'. Most words of a receipt are keys or values: the length and first
// letter rule out all keys but one before any comparison of the whole word.
std::optional<KeyMatch> match_key(std::string_view s, std::size_t i) {
  const std::string_view word = letters_at(s, i);
  if (word.empty()) return std::nullopt;
  const char first = to_lower(word[0]);
  const KeyWord* key = nullptr;
  for (const KeyWord& k : kKeyWords) {
    if (k.word.size() == word.size() && k.word[0] == first && iequals(word, k.word)) {
      key = &k;
      break;
    }
  }
  if (key == nullptr) return std::nullopt;
  std::size_t j = i + word.size();
  if (key->needs_date) {
    while (j < s.size() && (s[j] == ' ' || s[j] == '_')) ++j;
    const std::string_view second = letters_at(s, j);
    if (!iequals(second, "date")) return std::nullopt;
    j += second.size();
  }
  while (j < s.size() && (s[j] == ' ' || s[j] == '\t')) ++j;
  if (j >= s.size() || s[j] != ':') return std::nullopt;
  return KeyMatch{key->field, j + 1};
}

constexpr uint32_t bit(Field f) {
  return uint32_t{1} << f;
}
constexpr uint32_t kAllFields = (uint32_t{1} << kFieldCount) - 1;

// Finds where each field's value lies in `s`. Values run to the next separator; `text` runs to
// the end. The first occurrence of a key wins. Stops once every field of `wanted` (bits of
// Field) is found: the others are then left unfound.
std::array<Span, kFieldCount> scan(std::string_view s, uint32_t wanted = kAllFields) {
  std::array<Span, kFieldCount> spans{};
  uint32_t found = 0;
  std::size_t i = 0;
  while (i < s.size() && (found & wanted) != wanted) {
    while (i < s.size() && is_space(s[i])) ++i;
    if (i >= s.size()) break;
    const std::optional<KeyMatch> key = match_key(s, i);
    if (!key) {
      while (i < s.size() && !is_space(s[i])) ++i;  // an unknown token
      continue;
    }
    std::size_t v = key->value_start;
    while (v < s.size() && (s[v] == ' ' || s[v] == '\t')) ++v;
    if (key->field == kText) {
      std::size_t end = s.size();
      while (end > v && s[end - 1] == '\0') --end;
      if (!spans[kText].found()) spans[kText] = {v, end - v};
      break;
    }
    std::size_t end = v;
    // "sub: dlvrd:001": the field is empty and the next key starts after the spaces.
    if (!(v > key->value_start && match_key(s, v))) {
      while (end < s.size() && !is_space(s[end])) ++end;
    }
    if (!spans[key->field].found()) {
      spans[key->field] = {v, end - v};
      found |= bit(key->field);
    }
    i = end > key->value_start ? end : key->value_start;
  }
  return spans;
}

Receipt receipt_from_spans(std::string_view s, const std::array<Span, kFieldCount>& spans) {
  auto value = [&](Field f) {
    return spans[f].found() ? std::string(s.substr(spans[f].pos, spans[f].len)) : std::string();
  };
  Receipt r;
  r.text_id = value(kId);
  r.id = r.text_id;
  r.sub = value(kSub);
  r.dlvrd = value(kDlvrd);
  r.submit_date = value(kSubmitDate);
  r.done_date = value(kDoneDate);
  r.stat = value(kStat);
  r.state = r.stat.empty() ? MessageState::unknown : message_state_from_stat(r.stat);
  r.err = value(kErr);
  r.text = value(kText);
  return r;
}

std::string_view as_text(std::span<const uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
std::span<const uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// The receipt text of a deliver_sm: short_message, or message_payload when that is empty.
std::string_view receipt_text_of(const DeliverSm& pdu) {
  if (!pdu.short_message.empty()) return pdu.short_message.view();
  if (auto payload = pdu.tlvs.get(tlv::message_payload)) return as_text(*payload);
  return {};
}
std::string_view receipt_text_of(const DataSm& pdu) {
  if (auto payload = pdu.tlvs.get(tlv::message_payload)) return as_text(*payload);
  return {};
}

template <class Sm>
std::optional<Receipt> parse_receipt_pdu(const Sm& pdu) {
  const ReceiptKind kind = receipt_kind(pdu.esm_class);
  if (kind == ReceiptKind::none) return std::nullopt;
  const std::string_view text = receipt_text_of(pdu);
  Receipt r = receipt_from_spans(text, scan(text));
  r.kind = kind;
  if (auto id = pdu.tlvs.get(tlv::receipted_message_id)) {
    r.receipted_message_id = std::string(*id);
  }
  if (r.receipted_message_id && usable_id(*r.receipted_message_id)) {
    r.id = *r.receipted_message_id;
  } else if (!usable_id(r.text_id)) {
    return std::nullopt;
  }
  if (auto state = pdu.tlvs.get(tlv::message_state)) {
    r.message_state_value = *state;
    if (auto known = message_state_from_value(*state)) r.state = *known;
  }
  if (auto code = pdu.tlvs.get(tlv::network_error_code); code && code->size() == 3) {
    const std::span<const uint8_t> b = *code;
    r.network_error = NetworkErrorCode{b[0], static_cast<uint16_t>((b[1] << 8) | b[2])};
  }
  return r;
}

template <class Sm>
std::optional<ReceiptKey> receipt_key_of(const Sm& pdu) {
  if (receipt_kind(pdu.esm_class) == ReceiptKind::none) return std::nullopt;
  const std::string_view text = receipt_text_of(pdu);
  const std::array<Span, kFieldCount> spans = scan(text, bit(kId) | bit(kStat));
  ReceiptKey key;
  auto tlv_id = pdu.tlvs.get(tlv::receipted_message_id);
  if (tlv_id && usable_id(*tlv_id)) {
    key.id = *tlv_id;
  } else if (spans[kId].found()) {
    key.id = text.substr(spans[kId].pos, spans[kId].len);
  }
  if (!usable_id(key.id)) return std::nullopt;
  if (spans[kStat].found()) {
    key.state = message_state_from_stat(text.substr(spans[kStat].pos, spans[kStat].len));
  }
  if (auto state = pdu.tlvs.get(tlv::message_state)) {
    if (auto known = message_state_from_value(*state)) key.state = *known;
  }
  return key;
}

// `s` cut after `n` characters, a UTF-8 sequence counting as one.
std::string_view first_characters(std::string_view s, std::size_t n) {
  std::size_t chars = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80) {
      if (chars == n) return s.substr(0, i);
      ++chars;
    }
  }
  return s;
}

std::optional<uint64_t> parse_unsigned(std::string_view s, unsigned base) {
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  for (const char c : s) {
    unsigned d;
    if (is_digit(c)) {
      d = static_cast<unsigned>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      d = static_cast<unsigned>(c - 'a' + 10);
    } else {
      return std::nullopt;
    }
    if (d >= base) return std::nullopt;
    if (v > (UINT64_MAX - d) / base) return std::nullopt;
    v = v * base + d;
  }
  return v;
}

}  // namespace

// ---- states and kinds ----

std::optional<MessageState> message_state_from_value(uint8_t value) {
  if (value > 9) return std::nullopt;
  return static_cast<MessageState>(value);
}

std::string_view stat_word(MessageState state) {
  switch (state) {
    case MessageState::scheduled:
      return "SCHEDULED";
    case MessageState::enroute:
      return "ENROUTE";
    case MessageState::delivered:
      return "DELIVRD";
    case MessageState::expired:
      return "EXPIRED";
    case MessageState::deleted:
      return "DELETED";
    case MessageState::undeliverable:
      return "UNDELIV";
    case MessageState::accepted:
      return "ACCEPTD";
    case MessageState::unknown:
      return "UNKNOWN";
    case MessageState::rejected:
      return "REJECTD";
    case MessageState::skipped:
      return "SKIPPED";
  }
  return "UNKNOWN";
}

MessageState message_state_from_stat(std::string_view word) {
  struct Entry {
    std::string_view word;
    MessageState state;
  };
  static constexpr Entry kWords[] = {
      {"DELIVRD", MessageState::delivered},     {"DELIVERED", MessageState::delivered},
      {"EXPIRED", MessageState::expired},       {"DELETED", MessageState::deleted},
      {"UNDELIV", MessageState::undeliverable}, {"UNDELIVERABLE", MessageState::undeliverable},
      {"ACCEPTD", MessageState::accepted},      {"ACCEPTED", MessageState::accepted},
      {"UNKNOWN", MessageState::unknown},       {"REJECTD", MessageState::rejected},
      {"REJECTED", MessageState::rejected},     {"ENROUTE", MessageState::enroute},
      {"SCHEDULED", MessageState::scheduled},   {"SCHEDUL", MessageState::scheduled},
      {"SKIPPED", MessageState::skipped},
  };
  word = trim(word);
  for (const Entry& e : kWords) {
    if (iequals(word, e.word)) return e.state;
  }
  return MessageState::unknown;
}

ReceiptKind receipt_kind(uint8_t esm) {
  if (is_receipt(esm)) return ReceiptKind::delivery_receipt;
  if (is_intermediate_notification(esm)) return ReceiptKind::intermediate_notification;
  return ReceiptKind::none;
}

// ---- dates ----

std::optional<SmppTime> parse_receipt_date(std::string_view date) {
  if (date.size() != 10 && date.size() != 12) return std::nullopt;
  for (const char c : date) {
    if (!is_digit(c)) return std::nullopt;
  }
  // Validated by the SMPP time parser: YYMMDDhhmm[ss] + tenths, UTC offset 00.
  std::string full(date);
  if (date.size() == 10) full += "00";
  full += "000+";
  return parse_time(full);
}

std::string format_receipt_date(const SmppTime& t) {
  return format_time(t).substr(0, 10);
}

std::optional<SmppTime> Receipt::submit_time() const {
  return parse_receipt_date(submit_date);
}
std::optional<SmppTime> Receipt::done_time() const {
  return parse_receipt_date(done_date);
}

// ---- parsing ----

std::optional<Receipt> parse_receipt_text(std::string_view text) {
  Receipt r = receipt_from_spans(text, scan(text));
  if (!usable_id(r.id)) return std::nullopt;
  return r;
}

std::optional<Receipt> parse_receipt(const DeliverSm& pdu) {
  return parse_receipt_pdu(pdu);
}
std::optional<Receipt> parse_receipt(const DataSm& pdu) {
  return parse_receipt_pdu(pdu);
}

std::optional<ReceiptKey> receipt_key(const DeliverSm& pdu) {
  return receipt_key_of(pdu);
}
std::optional<ReceiptKey> receipt_key(const DataSm& pdu) {
  return receipt_key_of(pdu);
}

// ---- building ----

std::string format_receipt_text(const Receipt& r) {
  const bool delivered = r.state == MessageState::delivered;
  std::string out;
  out.reserve(128 + r.id.size());
  out += "id:";
  out += r.id;
  out += " sub:";
  out += r.sub.empty() ? "001" : std::string_view(r.sub);
  out += " dlvrd:";
  out += !r.dlvrd.empty() ? std::string_view(r.dlvrd) : delivered ? "001" : "000";
  out += " submit date:";
  out += r.submit_date;
  out += " done date:";
  out += r.done_date;
  out += " stat:";
  out += stat_word(r.state);
  out += " err:";
  out += r.err.empty() ? "000" : std::string_view(r.err);
  out += " text:";
  out += first_characters(r.text, 20);
  return out;
}

bool fill_receipt(DeliverSm& out, const Receipt& r, Version peer) {
  if (!usable_id(r.id)) return false;
  const std::string text = format_receipt_text(r);
  const bool with_tlvs = supports_tlvs(peer);
  const bool in_short_message = text.size() <= ShortMessage::kMaxLength;
  if (!in_short_message && !with_tlvs) return false;

  out.esm_class = r.kind == ReceiptKind::intermediate_notification
                      ? esm_class::kIntermediateNotification
                      : esm_class::kDeliveryReceipt;
  out.registered_delivery = 0;  // a receipt asks for no receipt
  if (in_short_message) {
    out.short_message.assign(std::string_view(text));
    out.tlvs.erase(tlv::message_payload.tag);
  } else {
    out.short_message.clear();
    out.tlvs.set(tlv::message_payload, as_bytes(text));
  }
  out.tlvs.erase(tlv::receipted_message_id.tag);
  out.tlvs.erase(tlv::message_state.tag);
  out.tlvs.erase(tlv::network_error_code.tag);
  if (!with_tlvs) return true;
  // The TLV holds at most 64 characters; a longer id travels in the text only.
  if (r.id.size() <= MessageId::kMaxLength) out.tlvs.set(tlv::receipted_message_id, r.id);
  out.tlvs.set(tlv::message_state, static_cast<uint8_t>(r.state));
  if (r.network_error) {
    const uint8_t code[3] = {r.network_error->network_type,
                             static_cast<uint8_t>(r.network_error->error_code >> 8),
                             static_cast<uint8_t>(r.network_error->error_code)};
    out.tlvs.set(tlv::network_error_code, std::span<const uint8_t>(code));
  }
  return true;
}

// ---- rewriting ----

std::optional<std::string> rewrite_receipt_id(std::string_view text, std::string_view new_id) {
  if (!usable_id(new_id)) return std::nullopt;
  const Span id = scan(text, bit(kId))[kId];
  if (!id.found() || id.len == 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() - id.len + new_id.size());
  out += text.substr(0, id.pos);
  out += new_id;
  out += text.substr(id.pos + id.len);
  return out;
}

bool rewrite_receipt_id(DeliverSm& pdu, std::string_view new_id) {
  if (!usable_id(new_id)) return false;
  const bool has_tlv = pdu.tlvs.contains(tlv::receipted_message_id.tag);
  if (has_tlv && new_id.size() > MessageId::kMaxLength) return false;

  const bool in_short_message = !pdu.short_message.empty();
  if (in_short_message) {
    // The usual case, without allocating: the new text is built on the stack.
    const std::string_view old_text = pdu.short_message.view();
    const Span id = scan(old_text, bit(kId))[kId];
    if (id.found() && id.len > 0) {
      const std::size_t size = old_text.size() - id.len + new_id.size();
      if (size > ShortMessage::kMaxLength) return false;
      std::array<char, ShortMessage::kMaxLength> buffer;
      std::memcpy(buffer.data(), old_text.data(), id.pos);
      std::memcpy(buffer.data() + id.pos, new_id.data(), new_id.size());
      std::memcpy(buffer.data() + id.pos + new_id.size(), old_text.data() + id.pos + id.len,
                  old_text.size() - id.pos - id.len);
      pdu.short_message.assign(std::string_view(buffer.data(), size));
    } else if (!has_tlv) {
      return false;
    }
    if (has_tlv) pdu.tlvs.set(tlv::receipted_message_id, new_id);
    return true;
  }
  std::optional<std::string> text;
  if (auto payload = pdu.tlvs.get(tlv::message_payload)) {
    text = rewrite_receipt_id(as_text(*payload), new_id);
  }
  if (!text && !has_tlv) return false;

  if (text) pdu.tlvs.set(tlv::message_payload, as_bytes(*text));
  if (has_tlv) pdu.tlvs.set(tlv::receipted_message_id, new_id);
  return true;
}

// ---- message-id normalisation ----

std::string canonical_message_id(std::string_view id) {
  id = trim(id);
  if (id.empty()) return {};
  std::size_t zeros = 0;
  while (zeros < id.size() && id[zeros] == '0') ++zeros;
  if (zeros == id.size()) return "0";
  std::string out(id.substr(zeros));
  for (char& c : out) c = to_lower(c);
  return out;
}

std::string_view canonical_message_id(std::string_view id, CanonicalIdBuffer& buffer) {
  id = trim(id);
  if (id.empty()) return {};
  std::size_t zeros = 0;
  while (zeros < id.size() && id[zeros] == '0') ++zeros;
  if (zeros == id.size()) {
    buffer[0] = '0';
    return {buffer.data(), 1};
  }
  id = id.substr(zeros, buffer.size());
  for (std::size_t i = 0; i < id.size(); ++i) buffer[i] = to_lower(id[i]);
  return {buffer.data(), id.size()};
}

bool MessageIdKeys::contains(std::string_view key) const {
  for (std::string_view k : *this) {
    if (k == key) return true;
  }
  return false;
}

void MessageIdKeys::add(std::string_view key) {
  if (key.empty() || count_ == kMax || key.size() > keys_[0].size() || contains(key)) return;
  std::memcpy(keys_[count_].data(), key.data(), key.size());
  sizes_[count_] = static_cast<uint8_t>(key.size());
  ++count_;
}

MessageIdKeys message_id_keys(std::string_view id) {
  MessageIdKeys keys;
  CanonicalIdBuffer buffer;
  const std::string_view canonical = canonical_message_id(id, buffer);
  if (canonical.empty()) return keys;
  bool all_hex = canonical.size() <= 16;
  for (const char c : canonical) all_hex = all_hex && is_hex_digit(c);
  const std::optional<uint64_t> as_hex = all_hex ? parse_unsigned(canonical, 16) : std::nullopt;
  const std::optional<uint64_t> as_decimal =
      canonical.size() <= 20 ? parse_unsigned(canonical, 10) : std::nullopt;
  keys.add(canonical);
  std::array<char, 24> digits;
  if (as_hex) {
    const auto r = std::to_chars(digits.data(), digits.data() + digits.size(), *as_hex, 10);
    keys.add(std::string_view(digits.data(), static_cast<std::size_t>(r.ptr - digits.data())));
  }
  if (as_decimal) {
    const auto r = std::to_chars(digits.data(), digits.data() + digits.size(), *as_decimal, 16);
    keys.add(std::string_view(digits.data(), static_cast<std::size_t>(r.ptr - digits.data())));
  }
  return keys;
}

bool message_ids_match(std::string_view a, std::string_view b) {
  const std::string ca = canonical_message_id(a);
  const std::string cb = canonical_message_id(b);
  if (ca.empty() || cb.empty()) return false;
  return message_id_keys(b).contains(ca) || message_id_keys(a).contains(cb);
}

}  // namespace smpp
