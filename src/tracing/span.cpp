#include "tracing/span.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "core/utf8.hpp"

namespace smppd::tracing {

namespace {

uint8_t short_size(std::string_view text) {
  return static_cast<uint8_t>(std::min<std::size_t>(text.size(), UINT8_MAX));
}

}  // namespace

void Span::reset(const SpanContext& self, const SpanId& parent, Literal name, SpanKind span_kind,
                 uint64_t start, uint64_t end) {
  trace_id = self.trace_id;
  span_id = self.span_id;
  parent_span_id = parent;
  start_unix_nanos = start;
  end_unix_nanos = end;
  kind = span_kind;
  flags = self.flags;
  name_ = name.view().data();
  name_size_ = short_size(name.view());
  attribute_count_ = 0;
  status_ = StatusCode::unset;
  text_used_ = 0;
  status_offset_ = 0;
  status_size_ = 0;
  dropped_attributes_ = 0;
}

bool Span::store_text(std::string_view text, uint16_t& offset, uint16_t& size) {
  const std::string_view kept = utf8::prefix(text, kTextBytes - text_used_);
  if (kept.empty() && !text.empty()) return false;
  if (!kept.empty()) std::memcpy(text_.data() + text_used_, kept.data(), kept.size());
  offset = text_used_;
  size = static_cast<uint16_t>(kept.size());
  text_used_ = static_cast<uint16_t>(text_used_ + kept.size());
  return true;
}

void Span::add(Literal key, AttributeValue value) {
  if (attribute_count_ == kMaxAttributes) {
    ++dropped_attributes_;
    return;
  }
  StoredAttribute& a = attributes_[attribute_count_];
  a.key = key.view().data();
  a.key_size = short_size(key.view());
  a.type = value.type();
  a.number = value.integer();
  a.text_offset = 0;
  a.text_size = 0;
  if (value.type() == AttributeValue::Type::string &&
      !store_text(value.text(), a.text_offset, a.text_size)) {
    ++dropped_attributes_;
    return;
  }
  ++attribute_count_;
}

void Span::set_status(StatusCode code, std::string_view message) {
  status_ = code;
  status_offset_ = 0;
  status_size_ = 0;
  store_text(message, status_offset_, status_size_);
}

std::string_view Span::attribute_key(std::size_t i) const {
  return {attributes_[i].key, attributes_[i].key_size};
}

AttributeValue Span::attribute_value(std::size_t i) const {
  const StoredAttribute& a = attributes_[i];
  switch (a.type) {
    case AttributeValue::Type::string:
      return std::string_view(text_.data() + a.text_offset, a.text_size);
    case AttributeValue::Type::boolean:
      return a.number != 0;
    case AttributeValue::Type::integer:
      break;
  }
  return a.number;
}

std::string_view Span::status_message() const {
  return {text_.data() + status_offset_, status_size_};
}

uint64_t now_unix_nanos() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace smppd::tracing
