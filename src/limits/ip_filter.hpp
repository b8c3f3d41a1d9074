// A listener's address filter: blocked_ips first, then allowed_ips. Immutable once built, so one
// filter may be read from every thread without a lock.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "config/values.hpp"

namespace smppd::limits {

class IpFilter {
 public:
  IpFilter() = default;  // lets every address in
  IpFilter(std::vector<config::Cidr> allowed, std::vector<config::Cidr> blocked);
  explicit IpFilter(const config::ListenerConfig& listener);

  // Why the peer `address` (4 or 16 bytes, network order) may not connect: reason::kBlockedIps
  // when a blocked block holds it (checked first), reason::kAllowedIps when allowed_ips is not
  // empty and no block in it holds it; std::nullopt when it may connect. An IPv4-mapped IPv6
  // address is judged by IPv4 blocks (config::Cidr::contains).
  std::optional<std::string_view> reject_reason(std::span<const uint8_t> address) const;

 private:
  std::vector<config::Cidr> allowed_;  // empty: every address
  std::vector<config::Cidr> blocked_;
};

}  // namespace smppd::limits
