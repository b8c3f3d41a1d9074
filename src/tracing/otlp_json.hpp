// Spans as the body of an OTLP/HTTP JSON request: an ExportTraceServiceRequest in OTLP's JSON
// mapping of its protobuf (lowerCamelCase keys; trace and span ids as lowercase hex, not
// base64; enums as integers; 64-bit integers, the times among them, as decimal strings).
//
//   {"resourceSpans":[{"resource":{"attributes":[service.name, service.version, host.name]},
//     "scopeSpans":[{"scope":{"name":"smppd","version":...},"spans":[
//       {"traceId":"...","spanId":"...","parentSpanId":"...","name":"...","kind":2,
//        "startTimeUnixNano":"...","endTimeUnixNano":"...",
//        "attributes":[{"key":"k","value":{"stringValue":"v"}}, {"intValue":"7"}, {"boolValue":true}],
//        "droppedAttributesCount":1, "status":{"code":2,"message":"..."}}]}]}]}
//
// Strings are written as valid UTF-8 whatever a peer sent (each stray byte becomes U+FFFD): a
// collector refuses a whole batch over one invalid string. Built with Boost.JSON.
#pragma once

#include <span>
#include <string>

#include "tracing/span.hpp"

namespace smppd::tracing {

// The resource the spans come from (OpenTelemetry's semantic conventions).
struct Resource {
  std::string service_name = "smppd";
  std::string service_version;  // empty: smppd's own version
  std::string host_name;        // empty: this machine's name (gethostname)
};

// Fills the empty fields of `resource`.
Resource complete(Resource resource);

std::string encode_otlp_json(const Resource& resource, std::span<const Span> spans);

}  // namespace smppd::tracing
