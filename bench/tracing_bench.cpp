// The cost of tracing on the message path (bench/README.md, "Tracing"): a message's trace
// started, and a span recorded, when its trace is not sampled, when it is (into the ring, with
// the exporter's thread draining it), and the exporter's encoding of a batch.
#include <benchmark/benchmark.h>

#include <atomic>
#include <thread>
#include <vector>

#include "tracing/otlp_json.hpp"
#include "tracing/tracer.hpp"

namespace {

using namespace smppd::tracing;

// What a message does at 1 % sampling: start a trace, then record a span of it with the clock
// read only when sampled.
void BM_MessageAtRatio(benchmark::State& state) {
  const double ratio = static_cast<double>(state.range(0)) / 100.0;
  Tracer tracer(TracerOptions{.sampling_ratio = ratio, .buffer_spans = 1 << 16});
  std::atomic<bool> done{false};
  std::thread drain([&] {
    std::vector<Span> out;
    while (!done.load(std::memory_order_relaxed)) {
      out.clear();
      if (tracer.take(out, 4096) == 0) std::this_thread::yield();
    }
  });
  const std::string client = "client-a";
  for (auto _ : state) {
    const SpanContext trace = tracer.new_trace();
    const uint64_t start = trace.sampled() ? now_unix_nanos() : 0;
    tracer.record(trace, {}, "smpp.submit_sm", SpanKind::server, start,
                  trace.sampled() ? now_unix_nanos() : 0,
                  {{"smpp.system_id", client}, {"smpp.command_status", 0}});
    benchmark::DoNotOptimize(trace);
  }
  done = true;
  drain.join();
  state.counters["dropped"] = static_cast<double>(tracer.stats().dropped);
}
BENCHMARK(BM_MessageAtRatio)->Arg(0)->Arg(1)->Arg(100);

void BM_NewTrace(benchmark::State& state) {
  Tracer tracer(TracerOptions{.sampling_ratio = 0.01});
  for (auto _ : state) benchmark::DoNotOptimize(tracer.new_trace());
}
BENCHMARK(BM_NewTrace);

void BM_RecordNotSampled(benchmark::State& state) {
  Tracer tracer(TracerOptions{.sampling_ratio = 0.0});
  const SpanContext trace = tracer.new_trace();
  const std::string client = "client-a";
  for (auto _ : state) {
    benchmark::DoNotOptimize(tracer.record(trace, {}, "smpp.submit_sm", SpanKind::server, 1, 2,
                                           {{"smpp.system_id", client}}));
  }
}
BENCHMARK(BM_RecordNotSampled);

// A sampled span with four attributes into a ring with room (the ring is emptied, untimed,
// whenever it fills), and into a full ring (the span is dropped and counted).
void BM_RecordSampled(benchmark::State& state) {
  const bool full = state.range(0) != 0;
  Tracer tracer(TracerOptions{.sampling_ratio = 1.0, .buffer_spans = 4096});
  const SpanContext trace{random_trace_id(), random_span_id(), kSampledFlag};
  const std::string client = "client-a";
  std::vector<Span> out;
  out.reserve(tracer.capacity());
  const auto record = [&] {
    return tracer.record(trace, {}, "smpp.submit_sm", SpanKind::server, 1, 2,
                         {{"smpp.system_id", client}, {"smpp.command_status", 0},
                          {"smppd.route", "default"}, {"smpp.registered_delivery", true}});
  };
  if (full) {
    while (record()) {
    }
  }
  std::size_t in_ring = 0;
  for (auto _ : state) {
    if (!full && ++in_ring == tracer.capacity()) {
      state.PauseTiming();
      out.clear();
      tracer.take(out, tracer.capacity());
      in_ring = 1;
      state.ResumeTiming();
    }
    benchmark::DoNotOptimize(record());
  }
  state.counters["dropped"] = static_cast<double>(tracer.stats().dropped);
}
BENCHMARK(BM_RecordSampled)->ArgName("full")->Arg(0)->Arg(1);

// The exporter's thread: one batch of 512 spans as OTLP JSON.
void BM_EncodeBatch(benchmark::State& state) {
  std::vector<Span> spans;
  for (int i = 0; i < 512; ++i) {
    Span& s = spans.emplace_back(Span(SpanContext{random_trace_id(), random_span_id(), 1},
                                      random_span_id(), "smpp.submit_sm", SpanKind::server,
                                      1700000000000000000, 1700000000000100000));
    s.add("smpp.system_id", std::string_view("client-a"));
    s.add("smpp.command_status", 0);
    s.add("smppd.route", std::string_view("default"));
    s.add("smpp.registered_delivery", true);
  }
  const Resource resource = complete({});
  std::size_t bytes = 0;
  for (auto _ : state) {
    const std::string body = encode_otlp_json(resource, spans);
    bytes = body.size();
    benchmark::DoNotOptimize(body.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 512);
  state.counters["body_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_EncodeBatch);

}  // namespace

BENCHMARK_MAIN();
