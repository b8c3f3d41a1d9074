// The HTTP auth service's answer to an accepted client: a JSON object whose fields are the
// client's settings (docs/auth.md):
//   {"allowed_ips": ["10.0.0.0/8"], "bind_types": ["transmitter"], "rate_limit": 50,
//    "max_connections": 2, "upstream": "carrier-a", "tier": "gold", "tags": {"plan": "otp"}}
// rate_limit may also be {"messages_per_second", "burst", "window_size"}; lists may also be
// one comma-separated string; tags may also be a list of "key=value". Unknown fields and nulls
// are ignored. Pure.
#pragma once

#include <string>
#include <string_view>

#include "extauth/client_settings.hpp"

namespace smppd::extauth {

// Adds the answer's fields to `builder`. False when the body is not a JSON object, or a field
// has the wrong type or value; builder.error() (or `error`) says why.
bool read_http_answer(std::string_view body, SettingsBuilder& builder, std::string& error);

// The request's body: {"system_id", "password", "ip", "bind_type", "listener"}.
std::string http_request_body(std::string_view system_id, std::string_view password,
                              std::string_view ip, std::string_view bind_type,
                              std::string_view listener);

}  // namespace smppd::extauth
