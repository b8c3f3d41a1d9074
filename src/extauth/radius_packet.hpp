// RADIUS (RFC 2865) Access-Request and the reading of its answer, with the Message-Authenticator
// of RFC 3579 (sent first in every request; checked in an answer that has one). Pure: bytes in,
// bytes out; the client that sends them is radius_backend.cpp.
//
// Vendor-Specific attributes (26) of the configured vendor carry the client's settings, each a
// text in the form client_settings.hpp reads:
//   1 allowed_ips  2 bind_types  3 rate_limit  4 window_size  5 max_connections  6 upstream
//   7 tier  8 tags  9 burst
// (docs/auth.md has a FreeRADIUS dictionary for them.)
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "extauth/client_settings.hpp"

namespace smppd::extauth::radius {

enum Code : uint8_t {
  kAccessRequest = 1,
  kAccessAccept = 2,
  kAccessReject = 3,
  kAccessChallenge = 11,
};

using Authenticator = std::array<uint8_t, 16>;

struct AccessRequest {
  std::string user_name;
  std::string password;  // at most 128 bytes
  std::string nas_identifier;
  std::string calling_station_id;  // the client's address
  std::string called_station_id;   // the listener's name
};

// The request's bytes. `password` longer than 128 bytes cannot be sent: nullopt.
std::optional<std::vector<uint8_t>> encode_access_request(uint8_t id, const Authenticator& ra,
                                                          std::string_view secret,
                                                          const AccessRequest& request);

struct Reply {
  uint8_t code = 0;  // kAccessAccept, kAccessReject, kAccessChallenge
  // The configured vendor's attributes, in order: the field and its text.
  std::vector<std::pair<Field, std::string>> settings;
  bool message_authenticator = false;  // the answer had one (and it was right)
};

// Reads an answer to request (`id`, `ra`). A string: why it is not a valid answer to it (wrong
// id, bad length, a Response Authenticator or Message-Authenticator that does not match the
// secret). `vendor_id` 0: no settings are read. `require_message_authenticator`: an answer
// without one is refused (Blast-RADIUS, CVE-2024-3596: the Response Authenticator alone, an MD5,
// can be forged by whoever is on the path).
std::variant<Reply, std::string> decode_reply(std::span<const uint8_t> packet, uint8_t id,
                                              const Authenticator& ra, std::string_view secret,
                                              uint32_t vendor_id,
                                              bool require_message_authenticator = false);

// The identifier of an answer (to find its request), or nullopt when too short to have one.
std::optional<uint8_t> reply_id(std::span<const uint8_t> packet);

}  // namespace smppd::extauth::radius
