#include "config/values.hpp"

#include <gtest/gtest.h>

using namespace smppd::config;
using namespace std::chrono_literals;

namespace {

template <class T>
T ok(const Parsed<T>& p) {
  EXPECT_EQ(p.index(), 0u) << (p.index() == 1 ? std::get<1>(p).reason : "");
  return p.index() == 0 ? std::get<0>(p) : T{};
}

template <class T>
std::string reason(const Parsed<T>& p) {
  EXPECT_EQ(p.index(), 1u);
  return p.index() == 1 ? std::get<1>(p).reason : "";
}

std::vector<uint8_t> ip(std::string_view text) {
  auto a = parse_ip(text);
  EXPECT_TRUE(a) << text;
  if (!a) return {};
  auto v = a->view();
  return {v.begin(), v.end()};
}

}  // namespace

TEST(Duration, UnitsAndSums) {
  EXPECT_EQ(ok(parse_duration("500ms")), 500ms);
  EXPECT_EQ(ok(parse_duration("30s")), 30s);
  EXPECT_EQ(ok(parse_duration("5m")), 5min);
  EXPECT_EQ(ok(parse_duration("1h")), 1h);
  EXPECT_EQ(ok(parse_duration("30d")), 30 * 24h);
  EXPECT_EQ(ok(parse_duration("1h30m")), 90min);
  EXPECT_EQ(ok(parse_duration("0")), 0ms);
}

TEST(Duration, RejectsMissingOrUnknownUnits) {
  EXPECT_NE(reason(parse_duration("30")).find("invalid duration '30'"), std::string::npos);
  reason(parse_duration("30 s"));
  reason(parse_duration("1w"));
  reason(parse_duration("-5s"));
  reason(parse_duration(""));
  reason(parse_duration("s"));
  EXPECT_NE(reason(parse_duration("99999999999999999d")).find("too long"), std::string::npos);
}

TEST(Size, UnitsAreBinary) {
  EXPECT_EQ(ok(parse_size("1048576")), 1048576u);
  EXPECT_EQ(ok(parse_size("10KB")), 10u * 1024);
  EXPECT_EQ(ok(parse_size("100MB")), 100u * 1024 * 1024);
  EXPECT_EQ(ok(parse_size("1GB")), 1024u * 1024 * 1024);
  EXPECT_EQ(ok(parse_size("4mb")), 4u * 1024 * 1024);
  EXPECT_EQ(ok(parse_size("512B")), 512u);
  reason(parse_size("10 MB"));
  reason(parse_size("MB"));
  reason(parse_size("10XB"));
  reason(parse_size("-1"));
}

TEST(Integer, DecimalHexAndRange) {
  EXPECT_EQ(ok(parse_integer("52", 0, 255)), 52);
  EXPECT_EQ(ok(parse_integer("0x34", 0, 255)), 0x34);
  EXPECT_EQ(ok(parse_integer("0x00000058", 0, UINT32_MAX)), 0x58);
  EXPECT_NE(reason(parse_integer("256", 0, 255)).find("out of range [0, 255]"), std::string::npos);
  reason(parse_integer("12abc", 0, 255));
  reason(parse_integer("", 0, 255));
  reason(parse_integer("0x", 0, 255));
}

TEST(HostPortParsing, Forms) {
  EXPECT_EQ(ok(parse_host_port(":2775", false)), (HostPort{"", 2775}));
  EXPECT_EQ(ok(parse_host_port("0.0.0.0:8775", false)), (HostPort{"0.0.0.0", 8775}));
  EXPECT_EQ(ok(parse_host_port("[::1]:2775", false)), (HostPort{"::1", 2775}));
  EXPECT_EQ(ok(parse_host_port("smsc.carrier-a.com:2775", false)),
            (HostPort{"smsc.carrier-a.com", 2775}));
  EXPECT_EQ(ok(parse_host_port("127.0.0.1:0", true)).port, 0);
  EXPECT_EQ((HostPort{"::1", 2775}).to_string(), "[::1]:2775");
}

TEST(HostPortParsing, Rejects) {
  reason(parse_host_port("127.0.0.1:0", false));
  reason(parse_host_port("host:65536", false));
  reason(parse_host_port("host", false));
  reason(parse_host_port("host:", false));
  reason(parse_host_port("::1:2775", false));
  reason(parse_host_port("[::1]2775", false));
  reason(parse_host_port("[nothex]:2775", false));
  reason(parse_host_port("bad host:25", false));
}

TEST(IpParsing, V4AndV6) {
  EXPECT_EQ(ip("192.168.1.7"), (std::vector<uint8_t>{192, 168, 1, 7}));
  auto v6 = ip("2001:db8::1");
  ASSERT_EQ(v6.size(), 16u);
  EXPECT_EQ(v6[0], 0x20);
  EXPECT_EQ(v6[1], 0x01);
  EXPECT_EQ(v6[3], 0xb8);
  EXPECT_EQ(v6[15], 1);
  EXPECT_EQ(ip("::").size(), 16u);
  EXPECT_EQ(ip("::ffff:10.1.2.3")[12], 10);
  EXPECT_EQ(ip("1:2:3:4:5:6:7:8")[15], 8);
  for (auto bad : {"256.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1:2:3:4:5:6:7:8:9", "1::2::3",
                   "12345::", "g::1", "", "1.2.3.4 "}) {
    EXPECT_FALSE(parse_ip(bad)) << bad;
  }
}

TEST(CidrBlock, ContainsV4) {
  auto c = ok(Cidr::parse("192.168.0.0/16"));
  EXPECT_TRUE(c.contains(ip("192.168.4.5")));
  EXPECT_FALSE(c.contains(ip("192.169.0.1")));
  EXPECT_FALSE(c.contains(ip("2001:db8::1")));
  auto odd = ok(Cidr::parse("10.0.0.0/9"));
  EXPECT_TRUE(odd.contains(ip("10.127.255.255")));
  EXPECT_FALSE(odd.contains(ip("10.128.0.0")));
  auto host = ok(Cidr::parse("10.0.0.99"));
  EXPECT_EQ(host.prefix_length(), 32u);
  EXPECT_TRUE(host.contains(ip("10.0.0.99")));
  EXPECT_FALSE(host.contains(ip("10.0.0.98")));
  auto all = ok(Cidr::parse("0.0.0.0/0"));
  EXPECT_TRUE(all.contains(ip("8.8.8.8")));
  // A dual-stack socket reports IPv4 peers as IPv4-mapped IPv6.
  EXPECT_TRUE(c.contains(ip("::ffff:192.168.1.1")));
  EXPECT_FALSE(c.contains(ip("::ffff:192.169.1.1")));
}

TEST(CidrBlock, ContainsV6) {
  auto c = ok(Cidr::parse("2001:db8::/32"));
  EXPECT_TRUE(c.is_v6());
  EXPECT_TRUE(c.contains(ip("2001:db8:ffff::1")));
  EXPECT_FALSE(c.contains(ip("2001:db9::1")));
  EXPECT_FALSE(c.contains(ip("10.0.0.1")));
  auto host = ok(Cidr::parse("::1"));
  EXPECT_EQ(host.prefix_length(), 128u);
  EXPECT_TRUE(host.contains(ip("::1")));
  EXPECT_FALSE(host.contains(ip("::2")));
  auto odd = ok(Cidr::parse("fe80::/10"));
  EXPECT_TRUE(odd.contains(ip("febf::1")));
  EXPECT_FALSE(odd.contains(ip("fec0::1")));
}

TEST(CidrBlock, Rejects) {
  EXPECT_NE(reason(Cidr::parse("10.0.0.0/33")).find("prefix length"), std::string::npos);
  reason(Cidr::parse("2001:db8::/129"));
  reason(Cidr::parse("10.0.0.0/"));
  reason(Cidr::parse("10.0.0.0/-1"));
  reason(Cidr::parse("10.0.0/8"));
  EXPECT_NE(reason(Cidr::parse("10.0.0.1/8")).find("host bits"), std::string::npos);
}

TEST(EnvExpansion, ReplacesEscapesAndNamesMissing) {
  EnvLookup env = [](std::string_view name) -> std::optional<std::string> {
    if (name == "USER") return "alice";
    if (name == "EMPTY") return "";
    return std::nullopt;
  };
  EXPECT_EQ(ok(expand_env("${USER}", env)), "alice");
  EXPECT_EQ(ok(expand_env("x-${USER}-${EMPTY}y", env)), "x-alice-y");
  EXPECT_EQ(ok(expand_env("cost $5 and $$ {USER}", env)), "cost $5 and $ {USER}");
  EXPECT_EQ(ok(expand_env("$${USER}", env)), "${USER}");
  EXPECT_EQ(reason(expand_env("${NOPE}", env)), "environment variable 'NOPE' is not set");
  EXPECT_NE(reason(expand_env("${USER", env)).find("unterminated"), std::string::npos);
  reason(expand_env("${}", env));
}

TEST(Suggestion, PicksCloseKeysOnly) {
  std::vector<std::string> keys = {"max_connections", "max_connections_per_ip", "address", "tls"};
  EXPECT_EQ(closest_match("max_conections", keys), "max_connections");
  EXPECT_EQ(closest_match("adress", keys), "address");
  EXPECT_EQ(closest_match("tsl", keys), "tls");
  EXPECT_FALSE(closest_match("completely_different", keys));
}

TEST(AddressPatternParsing, Kinds) {
  auto any = ok(parse_address_pattern("*"));
  EXPECT_EQ(any.kind, AddressPattern::Kind::any);
  EXPECT_FALSE(any.international);
  auto prefix = ok(parse_address_pattern("+258*"));
  EXPECT_EQ(prefix.kind, AddressPattern::Kind::prefix);
  EXPECT_TRUE(prefix.international);
  EXPECT_EQ(prefix.text, "258");
  auto any_international = ok(parse_address_pattern("+*"));
  EXPECT_EQ(any_international.kind, AddressPattern::Kind::prefix);
  EXPECT_TRUE(any_international.international);
  EXPECT_EQ(any_international.text, "");
  auto exact = ok(parse_address_pattern("PREMIUM"));
  EXPECT_EQ(exact.kind, AddressPattern::Kind::exact);
  EXPECT_FALSE(exact.international);
  EXPECT_EQ(exact.text, "PREMIUM");
  EXPECT_EQ(ok(parse_address_pattern("258*")).text, "258");
}

TEST(AddressPatternParsing, Rejects) {
  EXPECT_NE(reason(parse_address_pattern("")).find("empty address pattern"), std::string::npos);
  EXPECT_NE(reason(parse_address_pattern("25*8")).find("'*' may only end a pattern"),
            std::string::npos);
  EXPECT_NE(reason(parse_address_pattern("**")).find("'*' may only end"), std::string::npos);
  EXPECT_NE(reason(parse_address_pattern("+")).find("nothing after the '+'"), std::string::npos);
  EXPECT_NE(reason(parse_address_pattern("25+8*")).find("'+' may only start"), std::string::npos);
  EXPECT_NE(reason(parse_address_pattern("++258*")).find("'+' may only start"), std::string::npos);
}

TEST(JsonPathParsing, KeysAndIndexes) {
  const auto path = ok(parse_json_path("results[0].network.mnc"));
  ASSERT_EQ(path.size(), 4u);
  EXPECT_EQ(path[0], (JsonPathStep{"results", 0, false}));
  EXPECT_EQ(path[1], (JsonPathStep{"", 0, true}));
  EXPECT_EQ(path[2].key, "network");
  EXPECT_EQ(path[3].key, "mnc");
  EXPECT_EQ(ok(parse_json_path("mcc")).size(), 1u);
  const auto top = ok(parse_json_path("[2][10].x"));
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].index, 2u);
  EXPECT_EQ(top[1].index, 10u);
  EXPECT_EQ(ok(parse_json_path("is-ported")).front().key, "is-ported");
}

TEST(JsonPathParsing, Rejects) {
  EXPECT_NE(reason(parse_json_path("")).find("an empty JSON path"), std::string::npos);
  for (const char* bad : {"a..b", ".a", "a.", "a.[0]"}) {
    EXPECT_FALSE(reason(parse_json_path(bad)).empty()) << bad;
  }
  EXPECT_NE(reason(parse_json_path("a[x]")).find("list index"), std::string::npos);
  EXPECT_NE(reason(parse_json_path("a[]")).find("list index"), std::string::npos);
  EXPECT_NE(reason(parse_json_path("a[0")).find("list index"), std::string::npos);
  EXPECT_NE(reason(parse_json_path("a]")).find("']' without '['"), std::string::npos);
  EXPECT_NE(reason(parse_json_path("a[0]b")).find("expected '.' or '['"), std::string::npos);
  EXPECT_NE(reason(parse_json_path("a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q")).find("more than 16"),
            std::string::npos);
  EXPECT_NE(reason(parse_json_path("a[1234567]")).find("list index"), std::string::npos);
}
