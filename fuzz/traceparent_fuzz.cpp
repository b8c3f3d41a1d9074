// The W3C traceparent reader on any bytes (an HTTP header a client controls). Whatever it
// accepts is a valid context that writes back as version 00 and reads back the same; a version
// 00 header it accepts is written back byte for byte.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tracing/trace_context.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  using namespace smppd::tracing;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto context = parse_traceparent(text);
  if (!context) return 0;
  if (!context->valid()) std::abort();
  const std::string written = format_traceparent(*context);
  const auto again = parse_traceparent(written);
  if (!again || !(*again == *context)) std::abort();
  std::string_view trimmed = text;
  while (!trimmed.empty() && (trimmed.front() == ' ' || trimmed.front() == '\t'))
    trimmed.remove_prefix(1);
  while (!trimmed.empty() && (trimmed.back() == ' ' || trimmed.back() == '\t'))
    trimmed.remove_suffix(1);
  if (trimmed.starts_with("00-") && trimmed != written) std::abort();
  return 0;
}
