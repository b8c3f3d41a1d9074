// The parts of an HTTP request smppd reads by hand (api/http/request_parts.hpp): a target's
// path, its percent-encoded segments, and Basic credentials. Never crashes, never reads out of
// bounds, and what it gives back is consistent with what it was given.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "api/http/request_parts.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::size_t total = 0;
  for (std::string_view segment : smppd::http::split_path(input)) {
    if (segment.empty() || segment.find('/') != std::string_view::npos) std::abort();
    total += segment.size();
    if (auto decoded = smppd::http::percent_decode(segment)) {
      if (decoded->size() > segment.size()) std::abort();
    }
  }
  if (total > size) std::abort();
  if (auto bytes = smppd::http::base64_decode(input)) {
    if (bytes->size() > size / 4 * 3) std::abort();
  }
  if (auto credentials = smppd::http::basic_credentials(input)) {
    if (credentials->first.find(':') != std::string::npos) std::abort();
  }
  return 0;
}
