// The exporter against a real HTTP collector on loopback (a small Boost.Beast server in this
// test, on port 0): what it receives, batching, retries, a collector that refuses, one that is
// down, one that never answers, and shutdown within its deadline.
#include "tracing/otlp_exporter.hpp"

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace smppd::tracing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

// What the collector saw of a request, and how it answers one.
struct Request {
  std::string method, target, content_type, host, body;
  std::size_t spans = 0;
};
struct Reply {
  unsigned status = 200;
  std::string body = "{}";
  std::string retry_after;
  bool close_after = false;  // close the connection after answering, without saying so
  bool silent = false;       // read the request, never answer
};

// An OTLP/HTTP collector: records every request and answers as the replier says.
class Collector {
 public:
  using Replier = std::function<Reply(std::size_t index)>;

  explicit Collector(Replier replier = [](std::size_t) { return Reply{}; })
      : replier_(std::move(replier)), acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    asio::co_spawn(io_, accept(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Collector() {
    io_.stop();
    thread_.join();
  }

  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  config::OtlpEndpoint endpoint() const { return {{"127.0.0.1", port()}, "/v1/traces"}; }

  std::vector<Request> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  std::size_t spans() const {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& r : requests_) n += r.spans;
    return n;
  }
  int connections() const {
    std::lock_guard lock(mutex_);
    return connections_;
  }
  bool wait_for(std::function<bool()> done, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] {
      lock.unlock();
      const bool d = done();
      lock.lock();
      return d;
    });
  }
  bool wait_for_spans(std::size_t n) {
    return wait_for([&] { return spans() >= n; });
  }

 private:
  asio::awaitable<void> accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(nothrow);
      if (ec) co_return;
      {
        std::lock_guard lock(mutex_);
        ++connections_;
      }
      asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> serve(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> request;
      auto [ec, n] = co_await http::async_read(stream, buffer, request, nothrow);
      if (ec) co_return;
      Request seen{std::string(request.method_string()), std::string(request.target()),
                   std::string(request[http::field::content_type]),
                   std::string(request[http::field::host]), request.body()};
      boost::system::error_code parse_error;
      const json::value body = json::parse(seen.body, parse_error);
      if (!parse_error) {
        for (const auto& rs : body.at("resourceSpans").as_array())
          for (const auto& ss : rs.at("scopeSpans").as_array())
            seen.spans += ss.at("spans").as_array().size();
      }
      std::size_t index;
      {
        std::lock_guard lock(mutex_);
        index = requests_.size();
        requests_.push_back(std::move(seen));
      }
      changed_.notify_all();
      const Reply reply = replier_(index);
      if (reply.silent) {
        asio::steady_timer forever(io_, std::chrono::hours(1));
        co_await forever.async_wait(nothrow);
        co_return;
      }
      http::response<http::string_body> response{static_cast<http::status>(reply.status), 11};
      response.set(http::field::content_type, "application/json");
      if (!reply.retry_after.empty()) response.set(http::field::retry_after, reply.retry_after);
      response.keep_alive(request.keep_alive());
      response.body() = reply.body;
      response.prepare_payload();
      auto [wec, written] = co_await http::async_write(stream, response, nothrow);
      if (wec || reply.close_after || !request.keep_alive()) co_return;
    }
  }

  Replier replier_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Request> requests_;
  int connections_ = 0;
  std::thread thread_;
};

// Quick timers for tests.
OtlpExporterOptions fast(config::OtlpEndpoint endpoint) {
  OtlpExporterOptions o;
  o.endpoint = std::move(endpoint);
  o.resource = {"smppd", "9.9.9", "test-host"};
  o.flush_interval = 50ms;
  o.drain_interval = 5ms;
  o.request_timeout = 2s;
  o.retry_delay = 20ms;
  o.max_retry_delay = 100ms;
  return o;
}

TracerOptions sample_all(std::size_t buffer = 4096) {
  return TracerOptions{.enabled = true, .sampling_ratio = 1.0, .buffer_spans = buffer};
}

// A port with nothing listening on it: connections are refused.
uint16_t closed_port() {
  asio::io_context io;
  tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout = 10s) {
  const auto until = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() > until) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

const json::value* attribute(const json::value& attributes, std::string_view key) {
  for (const auto& a : attributes.as_array()) {
    if (a.at("key").as_string() == key) return &a.at("value");
  }
  return nullptr;
}

TEST(OtlpExporter, TheCollectorReceivesTheSpansAsRecorded) {
  Collector collector;
  Tracer tracer(sample_all());
  OtlpExporter exporter(tracer, fast(collector.endpoint()));
  EXPECT_EQ(exporter.url(), "http://127.0.0.1:" + std::to_string(collector.port()) + "/v1/traces");

  const SpanContext trace = tracer.new_trace();
  const SpanContext routed = trace.child();
  const SpanContext upstream = trace.child();
  const uint64_t t0 = now_unix_nanos();
  tracer.record(routed, trace.span_id, "smppd.route", SpanKind::internal, t0 + 1000, t0 + 2000,
                {{"smppd.route", "default"}, {"smppd.upstream", "carrier-a"}});
  tracer.record(upstream, trace.span_id, "smpp.upstream.submit_sm", SpanKind::client, t0 + 3000,
                t0 + 9000, {{"smpp.command_status", 0}}, StatusCode::ok);
  tracer.record(trace, {}, "smpp.submit_sm", SpanKind::server, t0, t0 + 10000,
                {{"smpp.system_id", "acme"}, {"smpp.registered_delivery", true}});
  ASSERT_TRUE(collector.wait_for_spans(3));

  const auto requests = collector.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/v1/traces");
  EXPECT_EQ(requests[0].content_type, "application/json");
  EXPECT_EQ(requests[0].host, "127.0.0.1:" + std::to_string(collector.port()));
  const json::value body = json::parse(requests[0].body);
  const auto& rs = body.at("resourceSpans").at(0);
  EXPECT_EQ(attribute(rs.at("resource").at("attributes"), "service.name")->at("stringValue"),
            "smppd");
  EXPECT_EQ(attribute(rs.at("resource").at("attributes"), "host.name")->at("stringValue"),
            "test-host");
  const auto& spans = rs.at("scopeSpans").at(0).at("spans").as_array();
  ASSERT_EQ(spans.size(), 3u);
  const std::string trace_hex = to_hex(trace.trace_id);
  for (const auto& s : spans) EXPECT_EQ(s.at("traceId"), trace_hex.c_str());
  EXPECT_EQ(spans[0].at("name"), "smppd.route");
  EXPECT_EQ(spans[0].at("spanId"), to_hex(routed.span_id).c_str());
  EXPECT_EQ(spans[0].at("parentSpanId"), to_hex(trace.span_id).c_str());
  EXPECT_EQ(spans[0].at("startTimeUnixNano"), std::to_string(t0 + 1000).c_str());
  EXPECT_EQ(spans[0].at("endTimeUnixNano"), std::to_string(t0 + 2000).c_str());
  EXPECT_EQ(attribute(spans[0].at("attributes"), "smppd.upstream")->at("stringValue"),
            "carrier-a");
  EXPECT_EQ(spans[1].at("kind"), 3);
  EXPECT_EQ(spans[1].at("status").at("code"), 1);
  EXPECT_EQ(attribute(spans[1].at("attributes"), "smpp.command_status")->at("intValue"), "0");
  EXPECT_EQ(spans[2].at("name"), "smpp.submit_sm");
  EXPECT_FALSE(spans[2].as_object().contains("parentSpanId"));
  EXPECT_EQ(attribute(spans[2].at("attributes"), "smpp.registered_delivery")->at("boolValue"),
            true);

  ASSERT_TRUE(eventually([&] { return exporter.stats().exported == 3; }));
  exporter.stop();
  const auto stats = exporter.stats();
  EXPECT_EQ(stats.dropped, 0u);
  EXPECT_EQ(stats.failed_requests, 0u);
  EXPECT_EQ(stats.tracer.buffered, 3u);
}

TEST(OtlpExporter, BatchesBySizeAndByTimeOnOneKeptConnection) {
  Collector collector;
  Tracer tracer(sample_all());
  auto options = fast(collector.endpoint());
  options.max_batch = 10;
  options.flush_interval = 300ms;
  OtlpExporter exporter(tracer, options);
  const SpanContext trace = tracer.new_trace();
  const auto start = Clock::now();
  for (int i = 0; i < 25; ++i) tracer.record(trace.child(), trace.span_id, "x", SpanKind::internal, 1, 2);
  ASSERT_TRUE(collector.wait_for_spans(25));
  const auto elapsed = Clock::now() - start;
  const auto requests = collector.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].spans, 10u);
  EXPECT_EQ(requests[1].spans, 10u);
  EXPECT_EQ(requests[2].spans, 5u);  // the rest, once the oldest waited flush_interval
  EXPECT_GE(elapsed, 300ms);
  EXPECT_EQ(collector.connections(), 1);
}

TEST(OtlpExporter, RetryableAnswersAreRetriedThenTheBatchGoesThrough) {
  Collector collector([](std::size_t i) {
    if (i == 0) return Reply{503, "{}", "", false, false};
    if (i == 1) return Reply{429, "{}", "0", false, false};  // Retry-After: 0 s
    return Reply{};
  });
  Tracer tracer(sample_all());
  OtlpExporter exporter(tracer, fast(collector.endpoint()));
  const SpanContext trace = tracer.new_trace();
  for (int i = 0; i < 4; ++i) tracer.record(trace.child(), trace.span_id, "x", SpanKind::internal, 1, 2);
  ASSERT_TRUE(eventually([&] { return exporter.stats().exported == 4; }));
  const auto requests = collector.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].body, requests[2].body);  // the same batch, sent again
  const auto stats = exporter.stats();
  EXPECT_EQ(stats.failed_requests, 2u);
  EXPECT_EQ(stats.failed_batches, 0u);
  EXPECT_EQ(stats.dropped, 0u);
}

TEST(OtlpExporter, ABadRequestIsNotRetriedTheBatchIsDroppedAndCounted) {
  Collector collector([](std::size_t i) {
    if (i == 0) return Reply{400, R"({"message":"bad"})", "", false, false};
    return Reply{};
  });
  Tracer tracer(sample_all());
  OtlpExporter exporter(tracer, fast(collector.endpoint()));
  const SpanContext trace = tracer.new_trace();
  for (int i = 0; i < 3; ++i) tracer.record(trace.child(), trace.span_id, "x", SpanKind::internal, 1, 2);
  ASSERT_TRUE(eventually([&] { return exporter.stats().failed_batches == 1; }));
  // The next batch is sent as usual.
  tracer.record(trace, {}, "y", SpanKind::server, 1, 2);
  ASSERT_TRUE(eventually([&] { return exporter.stats().exported == 1; }));
  const auto stats = exporter.stats();
  EXPECT_EQ(stats.dropped, 3u);
  EXPECT_EQ(stats.failed_requests, 1u);
  EXPECT_EQ(collector.requests().size(), 2u);
}

TEST(OtlpExporter, APartialSuccessCountsTheRejectedSpansAndIsNotRetried) {
  Collector collector([](std::size_t) {
    return Reply{
        200, R"({"partialSuccess":{"rejectedSpans":"2","errorMessage":"too old"}})", "", false,
        false};
  });
  Tracer tracer(sample_all());
  OtlpExporter exporter(tracer, fast(collector.endpoint()));
  const SpanContext trace = tracer.new_trace();
  for (int i = 0; i < 5; ++i) tracer.record(trace.child(), trace.span_id, "x", SpanKind::internal, 1, 2);
  ASSERT_TRUE(eventually([&] { return exporter.stats().exported == 3; }));
  EXPECT_EQ(exporter.stats().rejected, 2u);
  EXPECT_EQ(collector.requests().size(), 1u);
}

TEST(OtlpExporter, AConnectionTheCollectorClosedWhileIdleIsReplacedWithoutAFailure) {
  Collector collector([](std::size_t) { return Reply{200, "{}", "", true, false}; });
  Tracer tracer(sample_all());
  OtlpExporter exporter(tracer, fast(collector.endpoint()));
  const SpanContext trace = tracer.new_trace();
  for (int round = 1; round <= 3; ++round) {
    tracer.record(trace.child(), trace.span_id, "x", SpanKind::internal, 1, 2);
    ASSERT_TRUE(eventually([&] { return exporter.stats().exported == uint64_t(round); }));
    std::this_thread::sleep_for(20ms);  // the close reaches the exporter's socket
  }
  EXPECT_EQ(exporter.stats().failed_requests, 0u);
  EXPECT_EQ(collector.connections(), 3);
}

TEST(OtlpExporter, ACollectorThatIsDownCostsRetriesThenDropsWithBoundedMemory) {
  Tracer tracer(sample_all(64));
  auto options = fast({{"127.0.0.1", closed_port()}, "/v1/traces"});
  options.max_batch = 16;
  options.max_attempts = 3;
  OtlpExporter exporter(tracer, options);
  const SpanContext trace = tracer.new_trace();
  for (int i = 0; i < 16; ++i) tracer.record(trace.child(), trace.span_id, "x", SpanKind::internal, 1, 2);
  ASSERT_TRUE(eventually([&] { return exporter.stats().failed_batches >= 1; }));
  auto stats = exporter.stats();
  EXPECT_EQ(stats.failed_requests, 3u);  // max_attempts tries of the first batch
  EXPECT_EQ(stats.dropped, 16u);
  EXPECT_EQ(stats.exported, 0u);

  // Meanwhile the message path goes on: what the ring cannot hold is dropped at once.
  const auto start = Clock::now();
  for (int i = 0; i < 200000; ++i) tracer.record(trace, {}, "x", SpanKind::internal, 1, 2);
  EXPECT_LT(Clock::now() - start, 2s);
  stats = exporter.stats();
  EXPECT_GT(stats.tracer.dropped, 190000u);

  const auto stop_start = Clock::now();
  exporter.stop(300ms);
  EXPECT_LT(Clock::now() - stop_start, 1500ms);
  stats = exporter.stats();
  // Every span taken into the ring was either exported or dropped by the exporter, or is
  // still there (nothing is lost without being counted).
  EXPECT_LE(stats.exported + stats.dropped, stats.tracer.buffered);
  EXPECT_EQ(stats.exported, 0u);
}

TEST(OtlpExporter, ACollectorThatNeverAnswersTimesOut) {
  Collector collector([](std::size_t) { return Reply{200, "", "", false, true}; });
  Tracer tracer(sample_all());
  auto options = fast(collector.endpoint());
  options.request_timeout = 200ms;
  options.max_attempts = 2;
  OtlpExporter exporter(tracer, options);
  const SpanContext trace = tracer.new_trace();
  const auto start = Clock::now();
  tracer.record(trace, {}, "x", SpanKind::server, 1, 2);
  ASSERT_TRUE(eventually([&] { return exporter.stats().failed_batches == 1; }));
  EXPECT_GE(Clock::now() - start, 400ms);  // two attempts of 200 ms
  EXPECT_EQ(exporter.stats().failed_requests, 2u);
  EXPECT_EQ(collector.requests().size(), 2u);
  EXPECT_EQ(collector.connections(), 2);  // a timed-out connection is not used again
}

TEST(OtlpExporter, StopCutsAnExchangeThatOutlivesTheDeadline) {
  Collector collector([](std::size_t) { return Reply{200, "", "", false, true}; });
  Tracer tracer(sample_all());
  auto options = fast(collector.endpoint());
  options.request_timeout = 30s;
  OtlpExporter exporter(tracer, options);
  const SpanContext trace = tracer.new_trace();
  for (int i = 0; i < 7; ++i) tracer.record(trace.child(), trace.span_id, "x", SpanKind::internal, 1, 2);
  ASSERT_TRUE(collector.wait_for([&] { return !collector.requests().empty(); }));
  const auto start = Clock::now();
  exporter.stop(250ms);
  const auto took = Clock::now() - start;
  EXPECT_GE(took, 200ms);
  EXPECT_LT(took, 1500ms);
  EXPECT_EQ(exporter.stats().dropped, 7u);
  EXPECT_EQ(exporter.stats().failed_batches, 1u);
}

TEST(OtlpExporter, StopSendsWhatIsBufferedBeforeReturning) {
  Collector collector;
  Tracer tracer(sample_all());
  auto options = fast(collector.endpoint());
  options.flush_interval = 1h;  // only stop() makes the batch due
  options.drain_interval = 1h;
  OtlpExporter exporter(tracer, options);
  const SpanContext trace = tracer.new_trace();
  for (int i = 0; i < 5; ++i) tracer.record(trace.child(), trace.span_id, "x", SpanKind::internal, 1, 2);
  exporter.stop(2s);
  EXPECT_EQ(collector.spans(), 5u);
  EXPECT_EQ(exporter.stats().exported, 5u);
  exporter.stop();  // again: nothing happens
}

}  // namespace
}  // namespace smppd::tracing
