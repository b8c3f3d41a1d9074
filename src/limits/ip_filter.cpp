#include "limits/ip_filter.hpp"

#include <algorithm>

#include "limits/reasons.hpp"

namespace smppd::limits {

IpFilter::IpFilter(std::vector<config::Cidr> allowed, std::vector<config::Cidr> blocked)
    : allowed_(std::move(allowed)), blocked_(std::move(blocked)) {}

IpFilter::IpFilter(const config::ListenerConfig& listener)
    : IpFilter(listener.allowed_ips, listener.blocked_ips) {}

std::optional<std::string_view> IpFilter::reject_reason(std::span<const uint8_t> address) const {
  auto holds = [address](const config::Cidr& block) { return block.contains(address); };
  if (std::any_of(blocked_.begin(), blocked_.end(), holds)) return reason::kBlockedIps;
  if (!allowed_.empty() && std::none_of(allowed_.begin(), allowed_.end(), holds)) {
    return reason::kAllowedIps;
  }
  return std::nullopt;
}

}  // namespace smppd::limits
