// Why a connection or a bind was refused: short, stable strings that appear in logs and as
// metric labels. Callers compare against these constants, never against literals.
#pragma once

#include <string_view>

namespace smppd::limits::reason {

inline constexpr std::string_view kBlockedIps = "blocked_ips";
inline constexpr std::string_view kAllowedIps = "allowed_ips";  // not in a non-empty allowed_ips
inline constexpr std::string_view kMaxConnections = "max_connections";
inline constexpr std::string_view kMaxConnectionsPerIp = "max_connections_per_ip";
inline constexpr std::string_view kMaxUnboundConnections = "max_unbound_connections";
inline constexpr std::string_view kMaxUnboundConnectionsPerIp = "max_unbound_connections_per_ip";
inline constexpr std::string_view kMaxConnectionsPerClient = "max_connections_per_client";
inline constexpr std::string_view kClientMaxConnections = "client_max_connections";
inline constexpr std::string_view kConnectionRate = "connection_rate";
inline constexpr std::string_view kBindRate = "bind_rate";

}  // namespace smppd::limits::reason
