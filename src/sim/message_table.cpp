#include "sim/message_table.hpp"

#include <algorithm>

#include "smpp/text.hpp"

namespace smppd::sim {

namespace {

// Printable characters that GSM 03.38 and ASCII write with the same code: everything from
// space to 'z' except $ (GSM 0x24 is the currency sign), @ (GSM 0x40 is an inverted !), the
// brackets, backslash, caret, underscore and backquote.
bool same_in_gsm_and_ascii(char32_t c) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) return true;
  return c >= 0x20 && c <= 0x3F && c != '$';
}

}  // namespace

std::string text_excerpt(std::span<const uint8_t> bytes, uint8_t data_coding, bool udhi) {
  if (udhi && !bytes.empty()) {
    const std::size_t udh = std::size_t{bytes[0]} + 1;
    bytes = bytes.subspan(std::min(udh, bytes.size()));
  }
  smpp::TextDecodeOptions options;
  options.on_invalid = smpp::OnInvalid::replace;
  const smpp::DecodedText decoded = smpp::decode_message(bytes, data_coding, options);
  if (decoded.error == smpp::TextError::not_text) return {};
  // Walk the UTF-8 result by character: continuation octets belong to the '?' already written.
  std::string out;
  for (const char ch : decoded.text) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c & 0xC0) == 0x80) continue;
    if (out.size() == kExcerptLength) break;
    out += same_in_gsm_and_ascii(c) ? ch : '?';
  }
  return out;
}

bool MessageTable::add(Message message) {
  if (messages_.count(message.id) != 0) return false;
  message.due = std::max(message.due, last_due_);
  last_due_ = message.due;
  const uint32_t id = message.id;
  messages_.emplace(id, std::move(message));
  due_order_.push_back(id);
  return true;
}

Message* MessageTable::find(uint32_t id, std::string_view owner) {
  auto it = messages_.find(id);
  if (it == messages_.end() || it->second.owner != owner) return nullptr;
  return &it->second;
}

bool MessageTable::cancel(uint32_t id, std::string_view owner, int64_t now_unix) {
  Message* m = find(id, owner);
  if (m == nullptr || !m->pending()) return false;
  m->state = smpp::MessageState::deleted;
  m->done_unix = now_unix;
  return true;
}

std::optional<Clock::time_point> MessageTable::next_due() const {
  if (due_order_.empty()) return std::nullopt;
  auto it = messages_.find(due_order_.front());
  return it == messages_.end() ? last_due_ : it->second.due;
}

void MessageTable::keep_finished(uint32_t id) {
  finished_order_.push_back(id);
  while (finished_order_.size() > max_finished_) {
    messages_.erase(finished_order_.front());
    finished_order_.pop_front();
  }
}

}  // namespace smppd::sim
