// Sends the tracer's spans to an OpenTelemetry collector (or Jaeger, which takes OTLP natively)
// over OTLP/HTTP with the JSON encoding: `POST http://host:port/v1/traces`,
// `Content-Type: application/json`, one connection kept alive between batches.
//
// One thread of its own, off the message path: every drain_interval it takes what the tracer
// buffered; a batch goes out when it holds max_batch spans or its oldest span has waited
// flush_interval. A batch that fails for a reason OTLP says to retry (no connection, no answer
// within request_timeout, HTTP 429, 502, 503, 504) is sent again after a growing, jittered
// delay (or the collector's Retry-After), at most max_attempts times in all; then, or at once
// for any other answer (400, 404, 413...), it is dropped, counted, and said in the log (at most
// one line per 10 s with the count of the others). One batch is in hand at a time, so memory
// stays bounded whatever the collector does: meanwhile spans wait in the tracer's ring, and
// when that is full the message path drops them (counted).
//
// stop(deadline) sends what is buffered and gives up on what is still unsent at the deadline
// (an exchange in progress is cut then). A host name is resolved by the system's resolver,
// which has its own timeouts (an IP address needs none).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "tracing/otlp_json.hpp"
#include "tracing/tracer.hpp"
#include "config/config.hpp"

namespace smppd::tracing {

struct OtlpExporterOptions {
  config::OtlpEndpoint endpoint;
  Resource resource;  // empty fields are filled in (complete())

  std::size_t max_batch = 512;
  std::chrono::milliseconds flush_interval{1000};  // the longest a span waits for its batch
  std::chrono::milliseconds drain_interval{100};   // how often the tracer's ring is emptied
  std::chrono::milliseconds request_timeout{10000};  // connect, send and answer, per attempt
  int max_attempts = 4;
  std::chrono::milliseconds retry_delay{500};  // before the second attempt; doubles after
  std::chrono::milliseconds max_retry_delay{8000};
  std::size_t max_response_bytes = 64 * 1024;  // a longer answer is a failed request

  // The endpoint of `tracing.otlp.endpoint`.
  static OtlpExporterOptions from_config(const config::TracingConfig& tracing);
};

struct OtlpExporterStats {
  uint64_t exported = 0;         // spans the collector took
  uint64_t rejected = 0;         // spans a collector's partial success said it refused
  uint64_t dropped = 0;          // spans whose batch was given up
  uint64_t failed_batches = 0;   // batches given up
  uint64_t failed_requests = 0;  // POSTs that failed, each attempt counted
  TracerStats tracer;            // buffered, and dropped on the message path (buffer full)
};

class OtlpExporter {
 public:
  static constexpr std::chrono::milliseconds kDefaultStopDeadline{5000};

  // Starts the exporter's thread, which drains `tracer` until stop(). `tracer` must outlive it.
  OtlpExporter(Tracer& tracer, OtlpExporterOptions options);
  // stop(kDefaultStopDeadline).
  ~OtlpExporter();
  OtlpExporter(const OtlpExporter&) = delete;
  OtlpExporter& operator=(const OtlpExporter&) = delete;

  // Sends what the tracer holds and the batch in hand, at most until `deadline` from now; what
  // is not sent by then is dropped and counted. Joins the thread. Idempotent. Spans recorded
  // after it stay in the tracer's ring (until it is full).
  void stop(std::chrono::milliseconds deadline = kDefaultStopDeadline);

  OtlpExporterStats stats() const;
  // "http://host:port/path", for logs.
  const std::string& url() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace smppd::tracing
