// The pieces of an HTTP request smppd's endpoints read themselves, as pure functions (no I/O,
// no Boost): a target's path segments, percent-decoding, and Basic credentials. Outside input:
// fuzzed (fuzz/http_request_fuzz.cpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace smppd::http {

// "/api/clients/a%2Fb/" -> {"api", "clients", "a%2Fb"}: empty segments dropped, not decoded.
std::vector<std::string_view> split_path(std::string_view path);
// "%41b" -> "Ab"; nullopt for a '%' not followed by two hex digits.
std::optional<std::string> percent_decode(std::string_view segment);
// Standard base64 with padding (RFC 4648 §4), at most 4 KiB of input; nullopt when malformed.
std::optional<std::string> base64_decode(std::string_view text);
// The user and password of an "Authorization: Basic ..." value; nullopt when it is not one.
std::optional<std::pair<std::string, std::string>> basic_credentials(std::string_view header);

}  // namespace smppd::http
