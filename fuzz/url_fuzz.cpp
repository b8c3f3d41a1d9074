// The URLs the HTTP client is given (api/http/url): callback URLs come from customers through
// the API (callback_url, Kannel's dlr-url once filled in, Jasmin's dlr-url). Any bytes parse to
// a URL or to a reason, without crashing; a URL parsed has a host, a port, a target that starts
// with '/' and holds no space or control character, and reads back the same from its parts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "api/http/url.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  using namespace smppd::http;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string error;
  const auto url = parse_url(text, error);
  if (!url) {
    if (error.empty()) std::abort();
    return 0;
  }
  if (url->host.empty() || url->port == 0 || url->target.empty() || url->target[0] != '/') {
    std::abort();
  }
  for (char c : url->target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F) std::abort();
  }
  (void)url->host_header();
  std::string again_error;
  const auto again = parse_url(url->origin() + url->target, again_error);
  if (!again || again->host != url->host || again->port != url->port ||
      again->target != url->target || again->tls != url->tls) {
    std::abort();
  }
  return 0;
}
