// The W3C Trace Context a message carries: its trace id, the id of the span the next spans hang
// under, and whether the trace is sampled; the `traceparent` header that carries it over HTTP;
// random ids; and the ratio sampler. Pure: no I/O, no allocation, no lock (the fuzz build has
// this part alone).
//
// A SpanContext is 25 bytes, trivially copyable: the message path keeps it in the message's
// record and hands it across threads as it is, so a delivery receipt that comes minutes later
// on another thread joins the trace of its message.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace smppd::tracing {

// 16 bytes, big-endian as written in hex; all zero is not a valid id.
struct TraceId {
  std::array<uint8_t, 16> bytes{};
  bool valid() const;
  bool operator==(const TraceId&) const = default;
};

// 8 bytes; all zero is not a valid id (and means "no parent" in a span record).
struct SpanId {
  std::array<uint8_t, 8> bytes{};
  bool valid() const;
  bool operator==(const SpanId&) const = default;
};

// W3C trace-flags: bit 0 is `sampled`; the other bits are kept as received.
inline constexpr uint8_t kSampledFlag = 0x01;

struct SpanContext {
  TraceId trace_id;
  SpanId span_id;
  uint8_t flags = 0;

  bool sampled() const { return (flags & kSampledFlag) != 0; }
  // Both ids valid: a context that can be continued and propagated.
  bool valid() const { return trace_id.valid() && span_id.valid(); }
  // The context of a new span under this one: the same trace and flags, a new span id.
  SpanContext child() const;
  bool operator==(const SpanContext&) const = default;
};

// Random ids from a per-thread generator (xoshiro256**, seeded from std::random_device once per
// thread): a few nanoseconds, no lock, never all zero. Not for secrets.
TraceId random_trace_id();
SpanId random_span_id();

// Lowercase hex: 32 and 16 characters.
std::string to_hex(const TraceId& id);
std::string to_hex(const SpanId& id);
// Exactly 32 (16) hex digits, either case; all zero is refused.
std::optional<TraceId> trace_id_from_hex(std::string_view hex);
std::optional<SpanId> span_id_from_hex(std::string_view hex);

// The `traceparent` header, "00-<trace-id>-<parent-id>-<flags>", 55 characters.
inline constexpr std::size_t kTraceparentSize = 55;

// Reads a traceparent as W3C Trace Context (level 1) says a receiver must: lowercase hex only;
// all-zero trace or parent ids, version ff, and any other length or character are refused;
// version 00 is exactly 55 characters; a later version is read by the 00 layout and may go on
// after a '-' at position 55 (what follows is ignored). Optional whitespace around the value
// (an HTTP header's OWS) is skipped. The result's span_id is the caller's parent span.
std::optional<SpanContext> parse_traceparent(std::string_view header);
// Version 00 of `context` (which must be valid).
std::string format_traceparent(const SpanContext& context);
void format_traceparent(const SpanContext& context, std::array<char, kTraceparentSize>& out);

// Samples a ratio of traces, decided from the trace id alone, so that every span of a trace (on
// any thread, and in any smppd or other service using the same rule) gets the same decision:
// the trace id's last 7 bytes (the random part of a W3C level 2 id), read as a 56-bit number,
// below ratio * 2^56. Ratio 1 takes every trace, 0 none.
class RatioSampler {
 public:
  explicit RatioSampler(double ratio);
  bool sampled(const TraceId& id) const;
  double ratio() const { return ratio_; }

 private:
  double ratio_;
  uint64_t threshold_;  // of 2^56
};

}  // namespace smppd::tracing
