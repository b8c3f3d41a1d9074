// What the message path calls to trace a message: it starts (or continues) a trace when a
// message arrives, carries the SpanContext with the message, and records each finished span.
//
// Cost on the message path. Tracing off: new_trace() returns an empty context and record() a
// branch later. Not sampled: new_trace() draws two random words and compares one (a few ns);
// record() and submit() return at the first branch: no allocation, no lock, no clock read (keep
// the caller's clock reads behind `context.sampled()` too). Sampled: the span is written into
// one slot of a bounded lock-free ring (one compare-and-swap, no allocation, no lock) that the
// exporter's thread drains; when the ring is full the span is dropped and counted, so a slow or
// dead collector never makes the message path wait nor grows memory.
//
//   // A submit_sm arrives (or: tracer.continue_trace(*parse_traceparent(header)) for an HTTP
//   // request that carries a traceparent).
//   SpanContext trace = tracer.new_trace();
//   uint64_t t0 = trace.sampled() ? now_unix_nanos() : 0;
//   ...
//   tracer.record(trace, {}, "smpp.submit_sm", SpanKind::server, t0, now_unix_nanos(),
//                 {{"smpp.system_id", client}, {"smpp.command_status", status}});
//   SpanContext routed = trace.child();  // a span under the message's span
//   tracer.record(routed, trace.span_id, "smppd.route", SpanKind::internal, t1, t2,
//                 {{"smppd.route", route_name}});
//
// The receipt that comes minutes later on another thread: keep `trace` (25 bytes) with the
// message (its record in the id map, or the store) and record under it when the receipt comes.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "tracing/span.hpp"
#include "tracing/trace_context.hpp"
#include "core/mpsc_ring.hpp"

namespace smppd::tracing {

struct TracerOptions {
  bool enabled = true;
  double sampling_ratio = 1.0;
  // Spans waiting for the exporter (rounded up to a power of two); 4,096 are about 1.7 MiB.
  // The exporter drains them every drain_interval (100 ms by default): 4,096 spans take up to
  // about 40,000 sampled spans a second.
  std::size_t buffer_spans = 4096;
};

struct TracerStats {
  uint64_t buffered = 0;  // sampled spans taken into the buffer
  uint64_t dropped = 0;   // sampled spans dropped because the buffer was full
};

class Tracer {
 public:
  explicit Tracer(TracerOptions options = {});
  Tracer(const Tracer&) = delete;
  Tracer& operator=(const Tracer&) = delete;

  bool enabled() const { return enabled_; }
  const RatioSampler& sampler() const { return sampler_; }

  // A message that arrives without a trace: a new trace id and span id, sampled by the ratio.
  // Tracing off: an empty context (not sampled, not valid), nothing drawn.
  SpanContext new_trace() const {
    if (!enabled_) return {};
    SpanContext context{random_trace_id(), random_span_id(), 0};
    if (sampler_.sampled(context.trace_id)) context.flags = kSampledFlag;
    return context;
  }

  // A message that arrives with a remote parent (an HTTP request's traceparent): a new span of
  // that trace, sampled as the parent says (as OpenTelemetry's default, parent-based sampler
  // does), so that a trace is whole or absent. Record the span with `remote.span_id` as its
  // parent. Tracing off: an empty context. An invalid parent starts a new trace.
  SpanContext continue_trace(const SpanContext& remote) const {
    if (!enabled_) return {};
    if (!remote.valid()) return new_trace();
    return remote.child();
  }

  // Records a finished span of `self`'s trace, with `self.span_id` as its id. Returns at once
  // when the trace is not sampled. False when it was not taken (not sampled, or the buffer is
  // full: dropped and counted).
  bool record(const SpanContext& self, const SpanId& parent, Literal name, SpanKind kind,
              uint64_t start_unix_nanos, uint64_t end_unix_nanos,
              std::initializer_list<Attribute> attributes = {},
              StatusCode status = StatusCode::unset) {
    if (!self.sampled()) return false;
    return record_sampled(self, parent, name, kind, start_unix_nanos, end_unix_nanos, attributes,
                          status);
  }

  // The same for a span built by the caller (to add attributes one by one).
  bool submit(const Span& span) {
    if (!span.sampled()) return false;
    return push([&](Span& slot) { slot = span; });
  }

  // The exporter's thread only: moves up to `max` buffered spans to the end of `out`, oldest
  // first. Returns how many.
  std::size_t take(std::vector<Span>& out, std::size_t max);

  TracerStats stats() const;
  std::size_t capacity() const { return ring_.capacity(); }

 private:
  bool record_sampled(const SpanContext& self, const SpanId& parent, Literal name, SpanKind kind,
                      uint64_t start_unix_nanos, uint64_t end_unix_nanos,
                      std::initializer_list<Attribute> attributes, StatusCode status);
  template <class Fill>
  bool push(Fill&& fill) {
    if (ring_.try_push(fill)) return true;
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }

  const bool enabled_;
  const RatioSampler sampler_;
  MpscRing<Span> ring_;
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace smppd::tracing
