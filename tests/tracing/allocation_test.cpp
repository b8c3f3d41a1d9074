// The message path's calls allocate nothing, sampled or not: every operator new is counted
// while they run.
#include <gtest/gtest.h>

#include <string>

#include "tracing/tracer.hpp"
#include "counting_new.hpp"

using smppd::test::g_allocations;

namespace smppd::tracing {
namespace {

void trace_messages(Tracer& tracer, int messages, const std::string& client) {
  for (int i = 0; i < messages; ++i) {
    const SpanContext trace = tracer.new_trace();
    const uint64_t start = trace.sampled() ? now_unix_nanos() : 0;
    const SpanContext routed = trace.child();
    tracer.record(routed, trace.span_id, "smppd.route", SpanKind::internal, start, start + 1,
                  {{"smppd.route", "default"}});
    tracer.record(trace, {}, "smpp.submit_sm", SpanKind::server, start, start + 2,
                  {{"smpp.system_id", client}, {"smpp.command_status", 0}, {"smpp.ok", true}},
                  StatusCode::ok);
  }
}

TEST(TracingAllocation, RecordingAllocatesNothingSampledOrNot) {
  const std::string client = "a-client-name-longer-than-the-small-string-buffer";
  for (double ratio : {0.0, 0.01, 1.0}) {
    Tracer tracer(TracerOptions{.sampling_ratio = ratio, .buffer_spans = 1024});
    trace_messages(tracer, 1, client);  // this thread's id generator is made once
    const long before = g_allocations.load();
    trace_messages(tracer, 10000, client);  // a full buffer drops: no allocation either
    EXPECT_EQ(g_allocations.load() - before, 0) << "ratio " << ratio;
  }
}

}  // namespace
}  // namespace smppd::tracing
