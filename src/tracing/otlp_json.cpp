#include "tracing/otlp_json.hpp"

#include <unistd.h>

#include <array>
#include <boost/json.hpp>
#include <climits>

#include "core/utf8.hpp"

namespace smppd::tracing {

namespace json = boost::json;

namespace {

// A string for the JSON tree, valid UTF-8 (copied only when it is not).
json::string_view valid_text(std::string_view text, std::string& scratch) {
  if (utf8::valid(text)) return text;
  scratch.clear();
  utf8::append_replacing_invalid(text, scratch, [](char c, std::string& o) { o.push_back(c); });
  return scratch;
}

json::object key_value(json::string_view key, json::object value, json::storage_ptr sp) {
  json::object kv(sp);
  kv.reserve(2);
  kv.emplace("key", key);
  kv.emplace("value", std::move(value));
  return kv;
}

json::object string_value(json::string_view text, json::storage_ptr sp) {
  json::object v(sp);
  v.emplace("stringValue", text);
  return v;
}

json::array span_attributes(const Span& span, std::string& scratch, json::storage_ptr sp) {
  json::array out(sp);
  out.reserve(span.attribute_count());
  for (std::size_t i = 0; i < span.attribute_count(); ++i) {
    const AttributeValue value = span.attribute_value(i);
    json::object v(sp);
    switch (value.type()) {
      case AttributeValue::Type::string:
        v.emplace("stringValue", valid_text(value.text(), scratch));
        break;
      case AttributeValue::Type::integer:
        v.emplace("intValue", std::to_string(value.integer()));
        break;
      case AttributeValue::Type::boolean:
        v.emplace("boolValue", value.boolean());
        break;
    }
    out.emplace_back(key_value(valid_text(span.attribute_key(i), scratch), std::move(v), sp));
  }
  return out;
}

json::object span_object(const Span& span, std::string& scratch, json::storage_ptr sp) {
  json::object o(sp);
  o.reserve(11);
  o.emplace("traceId", to_hex(span.trace_id));
  o.emplace("spanId", to_hex(span.span_id));
  if (span.parent_span_id.valid()) o.emplace("parentSpanId", to_hex(span.parent_span_id));
  o.emplace("name", valid_text(span.name(), scratch));
  o.emplace("kind", static_cast<int>(span.kind));
  o.emplace("startTimeUnixNano", std::to_string(span.start_unix_nanos));
  o.emplace("endTimeUnixNano", std::to_string(span.end_unix_nanos));
  if (span.attribute_count() > 0) o.emplace("attributes", span_attributes(span, scratch, sp));
  if (span.dropped_attributes() > 0) o.emplace("droppedAttributesCount", span.dropped_attributes());
  if (span.status() != StatusCode::unset) {
    json::object status(sp);
    status.emplace("code", static_cast<int>(span.status()));
    if (!span.status_message().empty())
      status.emplace("message", valid_text(span.status_message(), scratch));
    o.emplace("status", std::move(status));
  }
  return o;
}

}  // namespace

Resource complete(Resource resource) {
  if (resource.service_version.empty()) resource.service_version = SMPPD_VERSION;
  if (resource.host_name.empty()) {
    std::array<char, HOST_NAME_MAX + 1> name{};
    if (::gethostname(name.data(), name.size() - 1) == 0) resource.host_name = name.data();
  }
  return resource;
}

std::string encode_otlp_json(const Resource& resource, std::span<const Span> spans) {
  // One arena for the whole tree, freed at once: a batch of 512 spans is a few thousand
  // small objects.
  json::monotonic_resource arena;
  json::storage_ptr sp(&arena);
  std::string scratch;

  json::array resource_attributes(sp);
  for (const auto& [key, value] : {std::pair{"service.name", &resource.service_name},
                                   std::pair{"service.version", &resource.service_version},
                                   std::pair{"host.name", &resource.host_name}}) {
    if (value->empty()) continue;
    resource_attributes.emplace_back(
        key_value(key, string_value(valid_text(*value, scratch), sp), sp));
  }
  json::array span_list(sp);
  span_list.reserve(spans.size());
  for (const Span& span : spans) span_list.emplace_back(span_object(span, scratch, sp));

  json::object scope(sp);
  scope.emplace("name", "smppd");
  scope.emplace("version", valid_text(resource.service_version, scratch));
  json::object scope_spans(sp);
  scope_spans.emplace("scope", std::move(scope));
  scope_spans.emplace("spans", std::move(span_list));
  json::object resource_object(sp);
  resource_object.emplace("attributes", std::move(resource_attributes));
  json::object resource_spans(sp);
  resource_spans.emplace("resource", std::move(resource_object));
  resource_spans.emplace("scopeSpans", json::array({std::move(scope_spans)}, sp));
  json::object request(sp);
  request.emplace("resourceSpans", json::array({std::move(resource_spans)}, sp));
  return json::serialize(request);
}

}  // namespace smppd::tracing
