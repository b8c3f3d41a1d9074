// Spans as records, and the tracer's buffer: what is sampled is kept in order, what is not costs
// nothing, a full buffer drops and counts without ever making the caller wait.
#include "tracing/tracer.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace smppd::tracing {
namespace {

using std::chrono::steady_clock;

TracerOptions sample_all(std::size_t buffer = 4096) {
  return TracerOptions{.enabled = true, .sampling_ratio = 1.0, .buffer_spans = buffer};
}

TEST(Span, KeepsItsFieldsAndAttributesOfEachType) {
  const SpanContext self{random_trace_id(), random_span_id(), kSampledFlag};
  const SpanId parent = random_span_id();
  Span span(self, parent, "smpp.submit_sm", SpanKind::server, 100, 250);
  span.add("smpp.system_id", std::string_view("acme"));
  span.add("smpp.command_status", 0x58);
  span.add("smpp.registered_delivery", true);
  span.add("smpp.sequence_number", int64_t{-7});
  span.set_status(StatusCode::error, "throttled");

  EXPECT_EQ(span.trace_id, self.trace_id);
  EXPECT_EQ(span.span_id, self.span_id);
  EXPECT_EQ(span.parent_span_id, parent);
  EXPECT_EQ(span.name(), "smpp.submit_sm");
  EXPECT_EQ(span.kind, SpanKind::server);
  EXPECT_EQ(span.start_unix_nanos, 100u);
  EXPECT_EQ(span.end_unix_nanos, 250u);
  EXPECT_TRUE(span.sampled());
  ASSERT_EQ(span.attribute_count(), 4u);
  EXPECT_EQ(span.attribute_key(0), "smpp.system_id");
  EXPECT_EQ(span.attribute_value(0).type(), AttributeValue::Type::string);
  EXPECT_EQ(span.attribute_value(0).text(), "acme");
  EXPECT_EQ(span.attribute_value(1).type(), AttributeValue::Type::integer);
  EXPECT_EQ(span.attribute_value(1).integer(), 0x58);
  EXPECT_EQ(span.attribute_value(2).type(), AttributeValue::Type::boolean);
  EXPECT_TRUE(span.attribute_value(2).boolean());
  EXPECT_EQ(span.attribute_value(3).integer(), -7);
  EXPECT_EQ(span.status(), StatusCode::error);
  EXPECT_EQ(span.status_message(), "throttled");
  EXPECT_EQ(span.dropped_attributes(), 0u);
}

TEST(Span, WhatDoesNotFitIsCutOrCountedNeverOverrun) {
  Span span(SpanContext{random_trace_id(), random_span_id(), 1}, {}, "x", SpanKind::internal, 0,
            0);
  for (std::size_t i = 0; i < Span::kMaxAttributes + 3; ++i) span.add("n", static_cast<int>(i));
  EXPECT_EQ(span.attribute_count(), Span::kMaxAttributes);
  EXPECT_EQ(span.dropped_attributes(), 3u);

  // A long value is cut at a UTF-8 boundary (each "é" is 2 bytes); the next finds no room.
  span = Span(SpanContext{random_trace_id(), random_span_id(), 1}, {}, "x", SpanKind::internal, 0,
              0);
  std::string long_text = "a";
  for (int i = 0; i < 200; ++i) long_text += "\xc3\xa9";
  span.add("text", std::string_view(long_text));
  ASSERT_EQ(span.attribute_count(), 1u);
  const std::string_view kept = span.attribute_value(0).text();
  EXPECT_EQ(kept.size(), Span::kTextBytes - 1);  // 'a' and 79 whole "é"
  EXPECT_EQ(kept, std::string_view(long_text).substr(0, Span::kTextBytes - 1));
  span.add("more", std::string_view("bc"));  // the last byte left: cut to "b"
  EXPECT_EQ(span.attribute_value(1).text(), "b");
  span.add("full", std::string_view("d"));  // no room at all: dropped
  span.add("number", 1);                    // numbers need no text space
  EXPECT_EQ(span.attribute_count(), 3u);
  EXPECT_EQ(span.dropped_attributes(), 1u);
  EXPECT_EQ(span.attribute_key(2), "number");
}

TEST(Tracer, ASampledSpanIsBufferedWithEverythingRecorded) {
  Tracer tracer(sample_all());
  const SpanContext trace = tracer.new_trace();
  ASSERT_TRUE(trace.sampled());
  const SpanContext routed = trace.child();
  EXPECT_TRUE(tracer.record(trace, {}, "smpp.submit_sm", SpanKind::server, 10, 20,
                            {{"smpp.system_id", "acme"}, {"smpp.parts", 2}}));
  EXPECT_TRUE(tracer.record(routed, trace.span_id, "smppd.route", SpanKind::internal, 11, 12,
                            {{"smppd.route", "default"}}, StatusCode::ok));
  std::vector<Span> out;
  EXPECT_EQ(tracer.take(out, 10), 2u);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].name(), "smpp.submit_sm");
  EXPECT_FALSE(out[0].parent_span_id.valid());
  EXPECT_EQ(out[0].attribute_value(0).text(), "acme");
  EXPECT_EQ(out[0].attribute_value(1).integer(), 2);
  EXPECT_EQ(out[1].name(), "smppd.route");
  EXPECT_EQ(out[1].trace_id, trace.trace_id);
  EXPECT_EQ(out[1].parent_span_id, trace.span_id);
  EXPECT_EQ(out[1].span_id, routed.span_id);
  EXPECT_EQ(out[1].status(), StatusCode::ok);
  EXPECT_EQ(tracer.take(out, 10), 0u);
  EXPECT_EQ(tracer.stats().buffered, 2u);
  EXPECT_EQ(tracer.stats().dropped, 0u);
}

TEST(Tracer, SpansOfUnsampledTracesAreNotBuffered) {
  Tracer tracer(TracerOptions{.sampling_ratio = 0.0});
  for (int i = 0; i < 1000; ++i) {
    const SpanContext trace = tracer.new_trace();
    EXPECT_TRUE(trace.valid());
    EXPECT_FALSE(tracer.record(trace, {}, "x", SpanKind::server, 1, 2, {{"k", 1}}));
    EXPECT_FALSE(tracer.submit(Span(trace, {}, "x", SpanKind::server, 1, 2)));
  }
  EXPECT_EQ(tracer.stats().buffered, 0u);
  EXPECT_EQ(tracer.stats().dropped, 0u);
}

TEST(Tracer, AFullBufferDropsAndCountsWithoutWaiting) {
  Tracer tracer(sample_all(16));
  ASSERT_EQ(tracer.capacity(), 16u);
  const SpanContext trace = tracer.new_trace();
  constexpr int kCalls = 1'000'000;
  const auto start = steady_clock::now();
  int taken = 0;
  for (int i = 0; i < kCalls; ++i) {
    taken += tracer.record(trace, {}, "x", SpanKind::internal, 1, 2, {{"smpp.system_id", "a"}});
  }
  const auto elapsed = steady_clock::now() - start;
  EXPECT_EQ(taken, 16);
  EXPECT_EQ(tracer.stats().buffered, 16u);
  EXPECT_EQ(tracer.stats().dropped, static_cast<uint64_t>(kCalls - 16));
  // A million refused spans take milliseconds (under sanitizers, tens): nothing waits.
  EXPECT_LT(elapsed, std::chrono::seconds(2));
  // Draining makes room again.
  std::vector<Span> out;
  EXPECT_EQ(tracer.take(out, 100), 16u);
  EXPECT_TRUE(tracer.record(trace, {}, "x", SpanKind::internal, 1, 2));
}

TEST(Tracer, ManyThreadsRecordWhileOneDrains) {
  Tracer tracer(sample_all(256));
  constexpr int kThreads = 4, kSpans = 20000;
  std::atomic<bool> done{false};
  std::vector<Span> taken;
  std::thread consumer([&] {
    std::vector<Span> batch;
    while (!done.load()) {
      tracer.take(batch, 64);
      for (const Span& s : batch) taken.push_back(s);
      batch.clear();
      std::this_thread::yield();
    }
    tracer.take(batch, SIZE_MAX);
    for (const Span& s : batch) taken.push_back(s);
  });
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&, t] {
      const SpanContext trace = tracer.new_trace();
      for (int i = 0; i < kSpans; ++i)
        tracer.record(trace, {}, "x", SpanKind::internal, static_cast<uint64_t>(i), 0,
                      {{"thread", t}});
    });
  }
  for (auto& p : producers) p.join();
  done = true;
  consumer.join();
  const TracerStats stats = tracer.stats();
  EXPECT_EQ(stats.buffered + stats.dropped, uint64_t{kThreads} * kSpans);
  EXPECT_EQ(taken.size(), stats.buffered);
  // Each thread's spans come out in the order it recorded them.
  std::vector<int64_t> last(kThreads, -1);
  for (const Span& s : taken) {
    const auto t = static_cast<std::size_t>(s.attribute_value(0).integer());
    EXPECT_GT(static_cast<int64_t>(s.start_unix_nanos), last[t]);
    last[t] = static_cast<int64_t>(s.start_unix_nanos);
  }
}

}  // namespace
}  // namespace smppd::tracing
