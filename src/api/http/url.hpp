// An http:// or https:// URL split for the HTTP client: where to connect and what to ask. Pure
// (no I/O, no Boost): URLs come from configuration and from customers through the API.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace smppd::http {

struct Url {
  bool tls = false;    // https
  std::string host;    // lower-cased; an IPv6 address without its brackets
  uint16_t port = 0;   // the scheme's default (80, 443) when the URL names none
  std::string target;  // path and query as written ("/" when empty); the fragment dropped

  // "https://host:443": what keep-alive connections are shared by.
  std::string origin() const;
  // The Host header: "host", or "host:8080" for a port that is not the scheme's; "[::1]:8080".
  std::string host_header() const;
};

// "http[s]://host[:port][/path][?query][#fragment]", the scheme in any case. Refused, with
// `error` saying why: other schemes, user:password@ (credentials belong in headers), a host
// that is not a DNS name, IPv4 or [IPv6] address, a port outside 1..65535, spaces, control and
// non-ASCII characters (those must be percent-encoded).
std::optional<Url> parse_url(std::string_view text, std::string& error);

}  // namespace smppd::http
