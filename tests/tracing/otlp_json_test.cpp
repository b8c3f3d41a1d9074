// The OTLP/HTTP JSON body, read back with Boost.JSON as a collector reads it.
#include "tracing/otlp_json.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <vector>

namespace smppd::tracing {
namespace {

namespace json = boost::json;

const json::value* attribute(const json::array& attributes, std::string_view key) {
  for (const auto& a : attributes) {
    if (a.at("key").as_string() == key) return &a.at("value");
  }
  return nullptr;
}

TEST(OtlpJson, AnExportTraceServiceRequestInOtlpsJsonMapping) {
  const SpanContext trace{random_trace_id(), random_span_id(), kSampledFlag};
  const SpanContext child = trace.child();
  std::vector<Span> spans;
  spans.push_back(Span(trace, SpanId{}, "smpp.submit_sm", SpanKind::server, 1700000000123456789,
                       1700000000223456789));
  spans.back().add("smpp.system_id", std::string_view("acme"));
  spans.back().add("smpp.command_status", 88);
  spans.back().add("smpp.ok", false);
  spans.push_back(Span(child, trace.span_id, "smpp.upstream", SpanKind::client, 5, 6));
  spans.back().set_status(StatusCode::error, "ESME_RTHROTTLED");

  const Resource resource{"smppd", "1.2.3", "gw-1"};
  const json::value body = json::parse(encode_otlp_json(resource, spans));

  const auto& rs = body.at("resourceSpans").as_array();
  ASSERT_EQ(rs.size(), 1u);
  const auto& resource_attributes = rs[0].at("resource").at("attributes").as_array();
  EXPECT_EQ(attribute(resource_attributes, "service.name")->at("stringValue"), "smppd");
  EXPECT_EQ(attribute(resource_attributes, "service.version")->at("stringValue"), "1.2.3");
  EXPECT_EQ(attribute(resource_attributes, "host.name")->at("stringValue"), "gw-1");
  const auto& ss = rs[0].at("scopeSpans").as_array();
  ASSERT_EQ(ss.size(), 1u);
  EXPECT_EQ(ss[0].at("scope").at("name"), "smppd");
  const auto& out = ss[0].at("spans").as_array();
  ASSERT_EQ(out.size(), 2u);

  const auto& root = out[0].as_object();
  EXPECT_EQ(root.at("traceId"), to_hex(trace.trace_id).c_str());
  EXPECT_EQ(root.at("spanId"), to_hex(trace.span_id).c_str());
  EXPECT_FALSE(root.contains("parentSpanId"));
  EXPECT_EQ(root.at("name"), "smpp.submit_sm");
  EXPECT_EQ(root.at("kind"), 2);
  // 64-bit integers are decimal strings in OTLP's JSON.
  EXPECT_EQ(root.at("startTimeUnixNano"), "1700000000123456789");
  EXPECT_EQ(root.at("endTimeUnixNano"), "1700000000223456789");
  const auto& attributes = root.at("attributes").as_array();
  EXPECT_EQ(attribute(attributes, "smpp.system_id")->at("stringValue"), "acme");
  EXPECT_EQ(attribute(attributes, "smpp.command_status")->at("intValue"), "88");
  EXPECT_EQ(attribute(attributes, "smpp.ok")->at("boolValue"), false);
  EXPECT_FALSE(root.contains("status"));
  EXPECT_FALSE(root.contains("droppedAttributesCount"));

  const auto& second = out[1].as_object();
  EXPECT_EQ(second.at("parentSpanId"), to_hex(trace.span_id).c_str());
  EXPECT_EQ(second.at("traceId"), root.at("traceId"));
  EXPECT_EQ(second.at("kind"), 3);
  EXPECT_EQ(second.at("status").at("code"), 2);
  EXPECT_EQ(second.at("status").at("message"), "ESME_RTHROTTLED");
  EXPECT_FALSE(second.contains("attributes"));
}

TEST(OtlpJson, StringsAreValidUtf8WhateverAPeerSent) {
  std::vector<Span> spans;
  spans.push_back(Span(SpanContext{random_trace_id(), random_span_id(), 1}, SpanId{}, "x",
                       SpanKind::internal, 1, 2));
  spans.back().add("smpp.system_id", std::string_view("a\xff\"b\xc3\xa9\n"));
  const json::value body = json::parse(encode_otlp_json(complete({}), spans));
  const auto& span = body.at("resourceSpans").at(0).at("scopeSpans").at(0).at("spans").at(0);
  EXPECT_EQ(span.at("attributes").at(0).at("value").at("stringValue"),
            "a\xEF\xBF\xBD\"b\xc3\xa9\n");
}

TEST(OtlpJson, TheResourceIsCompletedFromThisMachine) {
  const Resource r = complete({});
  EXPECT_EQ(r.service_name, "smppd");
  EXPECT_FALSE(r.service_version.empty());
  EXPECT_FALSE(r.host_name.empty());
}

}  // namespace
}  // namespace smppd::tracing
