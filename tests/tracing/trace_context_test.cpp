// Trace and span ids, the W3C traceparent header as a receiver must read it, and the ratio
// sampler's decisions.
#include "tracing/trace_context.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "tracing/tracer.hpp"

namespace smppd::tracing {
namespace {

constexpr std::string_view kTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr std::string_view kParent = "00f067aa0ba902b7";

std::string header(std::string_view version, std::string_view trace, std::string_view parent,
                   std::string_view flags) {
  return std::string(version) + "-" + std::string(trace) + "-" + std::string(parent) + "-" +
         std::string(flags);
}

TEST(TraceContext, RandomIdsAreValidAndDistinct) {
  std::set<std::string> traces, spans;
  for (int i = 0; i < 10000; ++i) {
    const TraceId t = random_trace_id();
    const SpanId s = random_span_id();
    EXPECT_TRUE(t.valid());
    EXPECT_TRUE(s.valid());
    traces.insert(to_hex(t));
    spans.insert(to_hex(s));
  }
  EXPECT_EQ(traces.size(), 10000u);
  EXPECT_EQ(spans.size(), 10000u);
}

TEST(TraceContext, HexIdsRoundTripAndRefuseWhatIsNotAnId) {
  const auto t = trace_id_from_hex(kTrace);
  ASSERT_TRUE(t);
  EXPECT_EQ(to_hex(*t), kTrace);
  EXPECT_EQ(to_hex(*trace_id_from_hex("4BF92F3577B34DA6A3CE929D0E0E4736")), kTrace);
  EXPECT_EQ(to_hex(*span_id_from_hex(kParent)), kParent);
  EXPECT_FALSE(trace_id_from_hex("4bf92f3577b34da6a3ce929d0e0e473"));    // 31 digits
  EXPECT_FALSE(trace_id_from_hex("4bf92f3577b34da6a3ce929d0e0e47360"));  // 33
  EXPECT_FALSE(trace_id_from_hex("4bf92f3577b34da6a3ce929d0e0e473g"));
  EXPECT_FALSE(trace_id_from_hex(std::string(32, '0')));
  EXPECT_FALSE(span_id_from_hex(std::string(16, '0')));
  EXPECT_FALSE(span_id_from_hex("00f067aa0ba902b"));
}

TEST(Traceparent, ValidVersionZeroHeaders) {
  auto c = parse_traceparent(header("00", kTrace, kParent, "01"));
  ASSERT_TRUE(c);
  EXPECT_EQ(to_hex(c->trace_id), kTrace);
  EXPECT_EQ(to_hex(c->span_id), kParent);
  EXPECT_TRUE(c->sampled());

  c = parse_traceparent(header("00", kTrace, kParent, "00"));
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->sampled());

  // Flags this receiver does not know are kept (and passed on) as they came.
  c = parse_traceparent(header("00", kTrace, kParent, "03"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->flags, 0x03);
  EXPECT_TRUE(c->sampled());

  // An HTTP header value's surrounding whitespace is not part of it.
  EXPECT_TRUE(parse_traceparent(" \t" + header("00", kTrace, kParent, "01") + " "));
}

TEST(Traceparent, InvalidHeadersAreRefused) {
  const std::string zero_trace(32, '0'), zero_parent(16, '0');
  const std::string valid = header("00", kTrace, kParent, "01");
  const struct {
    std::string text;
    const char* why;
  } cases[] = {
      {"", "empty"},
      {valid.substr(0, 54), "one character short"},
      {valid + "0", "version 00 is exactly 55 characters"},
      {valid + "-", "version 00 has no fields after the flags"},
      {header("00", zero_trace, kParent, "01"), "all-zero trace id"},
      {header("00", kTrace, zero_parent, "01"), "all-zero parent id"},
      {header("ff", kTrace, kParent, "01"), "version ff is invalid"},
      {header("00", "4BF92F3577B34DA6A3CE929D0E0E4736", kParent, "01"), "uppercase trace id"},
      {header("00", kTrace, "00F067AA0BA902B7", "01"), "uppercase parent id"},
      {header("0A", kTrace, kParent, "01"), "uppercase version"},
      {header("00", kTrace, kParent, "0G"), "flags not hex"},
      {header("0x", kTrace, kParent, "01"), "version not hex"},
      {header("00", "4bf92f3577b34da6a3ce929d0e0e473z", kParent, "01"), "trace id not hex"},
      {header("00", kTrace, "00f067aa0ba902bz", "01"), "parent id not hex"},
      {"00_" + std::string(kTrace) + "-" + std::string(kParent) + "-01", "wrong separator"},
      {"00-" + std::string(kTrace) + "0-" + std::string(kParent).substr(1) + "-01",
       "trace id 33 digits, parent 15"},
      {header("00", kTrace, kParent, "1"), "flags one digit"},
      {header("cc", kTrace, kParent, "01") + "x", "a later version needs '-' after the flags"},
      {header("cc", kTrace, kParent, "01").substr(0, 54), "a later version is at least 55 long"},
  };
  for (const auto& c : cases) EXPECT_FALSE(parse_traceparent(c.text)) << c.why << ": " << c.text;
}

TEST(Traceparent, LaterVersionsAreReadByTheVersionZeroLayout) {
  // W3C: a receiver that knows version 00 reads a later version's known fields and ignores
  // what follows them.
  auto c = parse_traceparent(header("cc", kTrace, kParent, "01"));
  ASSERT_TRUE(c);
  EXPECT_EQ(to_hex(c->trace_id), kTrace);
  c = parse_traceparent(header("cc", kTrace, kParent, "01") + "-what-comes-next");
  ASSERT_TRUE(c);
  EXPECT_EQ(to_hex(c->span_id), kParent);
  EXPECT_TRUE(c->sampled());
}

TEST(Traceparent, FormatsVersionZeroAndRoundTrips) {
  const std::string text = header("00", kTrace, kParent, "01");
  const auto c = parse_traceparent(text);
  ASSERT_TRUE(c);
  EXPECT_EQ(format_traceparent(*c), text);
  // What a later version sent goes on as version 00.
  EXPECT_EQ(format_traceparent(*parse_traceparent(header("cc", kTrace, kParent, "00") + "-x")),
            header("00", kTrace, kParent, "00"));
  for (int i = 0; i < 100; ++i) {
    const SpanContext r{random_trace_id(), random_span_id(), static_cast<uint8_t>(i % 2)};
    const auto back = parse_traceparent(format_traceparent(r));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, r);
  }
}

TEST(Sampler, OnePercentOfManyTracesWithinStatisticalBounds) {
  const RatioSampler sampler(0.01);
  int sampled = 0;
  for (int i = 0; i < 100000; ++i) sampled += sampler.sampled(random_trace_id()) ? 1 : 0;
  // Binomial(100,000, 0.01): mean 1,000, standard deviation 31.5; these bounds are 5 sigma.
  EXPECT_GT(sampled, 842);
  EXPECT_LT(sampled, 1158);
}

TEST(Sampler, TheDecisionIsTheTraceIdsWhereverItIsTaken) {
  const RatioSampler a(0.3), b(0.3);
  const Tracer tracer(TracerOptions{.sampling_ratio = 0.3});
  for (int i = 0; i < 1000; ++i) {
    const SpanContext trace = tracer.new_trace();
    EXPECT_EQ(trace.sampled(), a.sampled(trace.trace_id));
    EXPECT_EQ(a.sampled(trace.trace_id), b.sampled(trace.trace_id));
    // Every span of the trace carries the same decision.
    const SpanContext child = trace.child().child();
    EXPECT_EQ(child.trace_id, trace.trace_id);
    EXPECT_NE(child.span_id, trace.span_id);
    EXPECT_EQ(child.sampled(), trace.sampled());
  }
}

TEST(Sampler, RatiosOneAndZero) {
  const RatioSampler all(1.0), none(0.0), above(7.0), below(-1.0);
  TraceId highest;
  highest.bytes.fill(0xff);
  EXPECT_TRUE(all.sampled(highest));
  EXPECT_TRUE(above.sampled(highest));
  for (int i = 0; i < 1000; ++i) {
    const TraceId t = random_trace_id();
    EXPECT_TRUE(all.sampled(t));
    EXPECT_FALSE(none.sampled(t));
    EXPECT_FALSE(below.sampled(t));
  }
}

TEST(Sampler, ARemoteParentsDecisionIsKept) {
  const Tracer never(TracerOptions{.sampling_ratio = 0.0});
  const auto parent = parse_traceparent(header("00", kTrace, kParent, "01"));
  ASSERT_TRUE(parent);
  const SpanContext ours = never.continue_trace(*parent);
  EXPECT_EQ(to_hex(ours.trace_id), kTrace);
  EXPECT_NE(ours.span_id, parent->span_id);
  EXPECT_TRUE(ours.sampled());

  const Tracer always(TracerOptions{.sampling_ratio = 1.0});
  EXPECT_FALSE(always.continue_trace(*parse_traceparent(header("00", kTrace, kParent, "00")))
                   .sampled());
  // No valid parent: a trace of our own.
  EXPECT_TRUE(always.continue_trace(SpanContext{}).valid());
}

TEST(Tracer, OffDrawsNothing) {
  const Tracer off(TracerOptions{.enabled = false});
  EXPECT_FALSE(off.new_trace().valid());
  EXPECT_FALSE(off.new_trace().sampled());
  EXPECT_FALSE(off.continue_trace(*parse_traceparent(header("00", kTrace, kParent, "01"))).valid());
}

}  // namespace
}  // namespace smppd::tracing
