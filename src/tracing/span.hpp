// One finished span as the exporter sends it: ids, name, kind, times, attributes, status. A
// fixed-size record (about 420 bytes) that owns no heap memory: names and attribute keys are
// string literals (`Literal`), string values are copied into the span's own 160 bytes, and at
// most 8 attributes are kept (more are counted in dropped_attributes, as OTLP reports them). So
// a span can be written straight into a slot of the tracer's ring and copied as bytes, and
// recording a sampled span allocates nothing either.
#pragma once

#include <array>
#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>

#include "tracing/trace_context.hpp"

namespace smppd::tracing {

// A text of static storage duration: a string literal, checked at compile time. Span names and
// attribute keys are kept as pointers, never copied.
class Literal {
 public:
  template <std::size_t N>
  consteval Literal(const char (&text)[N]) : text_(text, N - 1) {}  // NOLINT: implicit on purpose
  // For a text known to live as long as the program (a table of names), not checked.
  static constexpr Literal of_static(std::string_view text) { return Literal(text, 0); }
  constexpr std::string_view view() const { return text_; }

 private:
  constexpr Literal(std::string_view text, int) : text_(text) {}
  std::string_view text_;
};

// OTLP's SpanKind and Status.code, with their wire values.
enum class SpanKind : uint8_t { unspecified = 0, internal = 1, server = 2, client = 3, producer = 4,
                                consumer = 5 };
enum class StatusCode : uint8_t { unset = 0, ok = 1, error = 2 };

// An attribute value as it is passed in: a string (copied when recorded), an integer or a bool.
class AttributeValue {
 public:
  enum class Type : uint8_t { string, integer, boolean };
  AttributeValue(std::string_view text) : type_(Type::string), text_(text) {}  // NOLINT
  AttributeValue(const char* text) : AttributeValue(std::string_view(text)) {}  // NOLINT
  AttributeValue(const std::string& text) : AttributeValue(std::string_view(text)) {}  // NOLINT
  AttributeValue(bool value) : type_(Type::boolean), number_(value ? 1 : 0) {}  // NOLINT
  template <std::integral I>
    requires(!std::same_as<I, bool>)
  AttributeValue(I value) : type_(Type::integer), number_(static_cast<int64_t>(value)) {}  // NOLINT

  Type type() const { return type_; }
  std::string_view text() const { return text_; }
  int64_t integer() const { return number_; }
  bool boolean() const { return number_ != 0; }

 private:
  Type type_;
  std::string_view text_;
  int64_t number_ = 0;
};

struct Attribute {
  Literal key;
  AttributeValue value;
};

class Span {
 public:
  static constexpr std::size_t kMaxAttributes = 8;
  static constexpr std::size_t kTextBytes = 160;

  Span() = default;
  // A span of the trace of `self` whose own id is self.span_id; `parent` is the span it runs
  // under (an invalid id for the root of a trace).
  Span(const SpanContext& self, const SpanId& parent, Literal name, SpanKind span_kind,
       uint64_t start, uint64_t end) {
    reset(self, parent, name, span_kind, start, end);
  }
  // Makes this the span the constructor makes, in place (a slot of the ring is reused so).
  void reset(const SpanContext& self, const SpanId& parent, Literal name, SpanKind span_kind,
             uint64_t start, uint64_t end);

  // Kept while there is room: at most kMaxAttributes, and string values while the span's text
  // space lasts (a value that does not fit whole is cut at a UTF-8 boundary). What is not kept
  // is counted in dropped_attributes().
  void add(Literal key, AttributeValue value);
  // The message is copied into the span's text space too (cut the same way).
  void set_status(StatusCode code, std::string_view message = {});

  // A stored attribute; read through Span's accessors.
  struct StoredAttribute {
    const char* key;
    uint8_t key_size;
    AttributeValue::Type type;
    uint16_t text_offset;
    uint16_t text_size;
    int64_t number;
  };

  TraceId trace_id;
  SpanId span_id;
  SpanId parent_span_id;
  uint64_t start_unix_nanos = 0;
  uint64_t end_unix_nanos = 0;
  SpanKind kind = SpanKind::internal;
  uint8_t flags = 0;  // the trace's W3C flags

  bool sampled() const { return (flags & kSampledFlag) != 0; }
  std::string_view name() const { return {name_, name_size_}; }
  std::size_t attribute_count() const { return attribute_count_; }
  std::string_view attribute_key(std::size_t i) const;
  AttributeValue attribute_value(std::size_t i) const;
  uint32_t dropped_attributes() const { return dropped_attributes_; }
  StatusCode status() const { return status_; }
  std::string_view status_message() const;

 private:
  // Copies up to `text` into the text space; false when nothing of a non-empty text fits.
  bool store_text(std::string_view text, uint16_t& offset, uint16_t& size);

  const char* name_ = "";
  uint8_t name_size_ = 0;
  uint8_t attribute_count_ = 0;
  StatusCode status_ = StatusCode::unset;
  uint16_t text_used_ = 0;
  uint16_t status_offset_ = 0;
  uint16_t status_size_ = 0;
  uint32_t dropped_attributes_ = 0;
  std::array<StoredAttribute, kMaxAttributes> attributes_;
  std::array<char, kTextBytes> text_;
};

// The wall clock in nanoseconds since the Unix epoch, as OTLP times spans.
uint64_t now_unix_nanos();

}  // namespace smppd::tracing
