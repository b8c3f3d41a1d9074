#include "limits/ip_filter.hpp"

#include <gtest/gtest.h>

#include "limits/reasons.hpp"
#include "limits/test_util.hpp"

using namespace smppd::limits;
using smppd::test::cidr;
using smppd::test::ip;

TEST(IpFilter, EmptyLetsEveryoneIn) {
  IpFilter filter;
  EXPECT_EQ(filter.reject_reason(ip("192.0.2.1")), std::nullopt);
  EXPECT_EQ(filter.reject_reason(ip("2001:db8::1")), std::nullopt);
}

TEST(IpFilter, AllowedIpv4) {
  IpFilter filter({cidr("10.0.0.0/8"), cidr("192.0.2.7")}, {});
  EXPECT_EQ(filter.reject_reason(ip("10.1.2.3")), std::nullopt);
  EXPECT_EQ(filter.reject_reason(ip("192.0.2.7")), std::nullopt);
  EXPECT_EQ(filter.reject_reason(ip("192.0.2.8")), reason::kAllowedIps);
  EXPECT_EQ(filter.reject_reason(ip("11.0.0.1")), reason::kAllowedIps);
  EXPECT_EQ(filter.reject_reason(ip("2001:db8::1")), reason::kAllowedIps);
}

TEST(IpFilter, AllowedIpv6) {
  IpFilter filter({cidr("2001:db8::/32")}, {});
  EXPECT_EQ(filter.reject_reason(ip("2001:db8:ffff::1")), std::nullopt);
  EXPECT_EQ(filter.reject_reason(ip("2001:db9::1")), reason::kAllowedIps);
  EXPECT_EQ(filter.reject_reason(ip("10.0.0.1")), reason::kAllowedIps);
}

TEST(IpFilter, Ipv4MappedMatchesIpv4Blocks) {
  IpFilter filter({cidr("10.0.0.0/8")}, {cidr("10.9.0.0/16")});
  EXPECT_EQ(filter.reject_reason(ip("::ffff:10.1.2.3")), std::nullopt);
  EXPECT_EQ(filter.reject_reason(ip("::ffff:10.9.2.3")), reason::kBlockedIps);
  EXPECT_EQ(filter.reject_reason(ip("::ffff:11.1.2.3")), reason::kAllowedIps);
}

TEST(IpFilter, BlockedIsCheckedBeforeAllowed) {
  IpFilter filter({cidr("192.0.2.0/24")}, {cidr("192.0.2.66")});
  EXPECT_EQ(filter.reject_reason(ip("192.0.2.66")), reason::kBlockedIps);
  EXPECT_EQ(filter.reject_reason(ip("192.0.2.65")), std::nullopt);
}

TEST(IpFilter, BlockedAloneLetsTheRestIn) {
  IpFilter filter({}, {cidr("2001:db8::/32"), cidr("203.0.113.0/24")});
  EXPECT_EQ(filter.reject_reason(ip("2001:db8::5")), reason::kBlockedIps);
  EXPECT_EQ(filter.reject_reason(ip("203.0.113.200")), reason::kBlockedIps);
  EXPECT_EQ(filter.reject_reason(ip("198.51.100.1")), std::nullopt);
  EXPECT_EQ(filter.reject_reason(ip("2001:db9::5")), std::nullopt);
}

TEST(IpFilter, FromListenerConfig) {
  smppd::config::ListenerConfig listener;
  listener.allowed_ips = {cidr("10.0.0.0/8")};
  listener.blocked_ips = {cidr("10.0.0.1")};
  IpFilter filter(listener);
  EXPECT_EQ(filter.reject_reason(ip("10.0.0.1")), reason::kBlockedIps);
  EXPECT_EQ(filter.reject_reason(ip("10.0.0.2")), std::nullopt);
  EXPECT_EQ(filter.reject_reason(ip("172.16.0.1")), reason::kAllowedIps);
}

TEST(IpFilter, MalformedAddressIsNotAllowedWhenAListExists) {
  IpFilter filter({cidr("10.0.0.0/8")}, {});
  const uint8_t five[5] = {10, 0, 0, 1, 0};
  EXPECT_EQ(filter.reject_reason(five), reason::kAllowedIps);
}

TEST(Reasons, AreTheStableLabels) {
  EXPECT_EQ(reason::kBlockedIps, "blocked_ips");
  EXPECT_EQ(reason::kAllowedIps, "allowed_ips");
  EXPECT_EQ(reason::kMaxConnections, "max_connections");
  EXPECT_EQ(reason::kMaxConnectionsPerIp, "max_connections_per_ip");
  EXPECT_EQ(reason::kMaxUnboundConnections, "max_unbound_connections");
  EXPECT_EQ(reason::kMaxUnboundConnectionsPerIp, "max_unbound_connections_per_ip");
  EXPECT_EQ(reason::kMaxConnectionsPerClient, "max_connections_per_client");
  EXPECT_EQ(reason::kClientMaxConnections, "client_max_connections");
  EXPECT_EQ(reason::kConnectionRate, "connection_rate");
  EXPECT_EQ(reason::kBindRate, "bind_rate");
}
