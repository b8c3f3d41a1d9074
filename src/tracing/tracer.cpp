#include "tracing/tracer.hpp"

namespace smppd::tracing {

Tracer::Tracer(TracerOptions options)
    : enabled_(options.enabled),
      sampler_(options.sampling_ratio),
      ring_(options.buffer_spans) {}

bool Tracer::record_sampled(const SpanContext& self, const SpanId& parent, Literal name,
                            SpanKind kind, uint64_t start_unix_nanos, uint64_t end_unix_nanos,
                            std::initializer_list<Attribute> attributes, StatusCode status) {
  // Built in the ring's slot: no copy of the record.
  return push([&](Span& slot) {
    slot.reset(self, parent, name, kind, start_unix_nanos, end_unix_nanos);
    for (const Attribute& a : attributes) slot.add(a.key, a.value);
    if (status != StatusCode::unset) slot.set_status(status);
  });
}

std::size_t Tracer::take(std::vector<Span>& out, std::size_t max) {
  std::size_t n = 0;
  for (; n < max; ++n) {
    const Span* span = ring_.front();
    if (span == nullptr) break;
    out.push_back(*span);
    ring_.pop();
  }
  return n;
}

TracerStats Tracer::stats() const {
  const uint64_t dropped = dropped_.load(std::memory_order_relaxed);
  return {ring_.pushed(), dropped};
}

}  // namespace smppd::tracing
