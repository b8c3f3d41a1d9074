#include "router/mo_router.hpp"

#include <gtest/gtest.h>

#include "config/loader.hpp"

using namespace smppd;
using namespace smppd::router;

namespace {

constexpr std::string_view kConfig = R"(listeners:
  - type: smpp
    address: :2775
upstreams:
  - {name: carrier-a, type: simulator}
  - {name: carrier-b, type: simulator}
clients:
  - {system_id: client-a, password: p}
  - {system_id: client-b, password: p}
  - {system_id: client-c, password: p}
  - {system_id: client-d, password: p}
mo_routes:
  - name: shortcode-on-a
    match: {destination_addr: "12345", upstream: carrier-a}
    client: client-a
  - name: shortcode-anywhere
    match: {destination_addr: "12345"}
    client: client-b
  - name: keyword-range
    match: {destination_addr: "+25884*", source_addr: "+258*"}
    client: client-c
  - name: everything-from-b
    match: {upstream: carrier-b}
    client: client-d
)";

std::shared_ptr<const config::Config> load() {
  auto r = config::load_config_string(kConfig, "mo.yaml");
  EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors.front().to_string());
  return r.config ? r.config : std::make_shared<config::Config>();
}

MoFacts mo(std::string_view destination, std::string_view source, std::string_view upstream,
           uint8_t dest_ton = 0, uint8_t source_ton = 0) {
  return {destination, dest_ton, source, source_ton, upstream};
}

std::string client(const MoRouter& r, const MoFacts& m) {
  MoDecision d = r.route(m);
  return d.matched() ? std::string(d.client) : "-";
}

}  // namespace

TEST(MoRouter, FirstMatchGivesTheClient) {
  auto config = load();
  MoRouter router(*config);
  ASSERT_EQ(router.size(), 4u);
  MoDecision d = router.route(mo("12345", "+258841234567", "carrier-a"));
  EXPECT_TRUE(d.matched());
  EXPECT_EQ(d.route_index, 0u);
  EXPECT_EQ(d.route_name, "shortcode-on-a");
  EXPECT_EQ(d.client, "client-a");
  // The same short code from another upstream: the next route.
  EXPECT_EQ(client(router, mo("12345", "+258841234567", "carrier-b")), "client-b");
  // An exact pattern: a longer number is not the short code.
  EXPECT_EQ(client(router, mo("123456", "+258841234567", "carrier-a")), "-");
  EXPECT_EQ(client(router, mo("123456", "+258841234567", "carrier-b")), "client-d");
}

TEST(MoRouter, AddressRulesAsForRoutes) {
  auto config = load();
  MoRouter router(*config);
  // '+' patterns: '+' in the PDU or TON 1.
  EXPECT_EQ(client(router, mo("+258841000", "+258821234567", "carrier-a")), "client-c");
  EXPECT_EQ(client(router, mo("258841000", "258821234567", "carrier-a", 1, 1)), "client-c");
  EXPECT_EQ(client(router, mo("258841000", "258821234567", "carrier-a", 1, 0)), "-");
  EXPECT_EQ(client(router, mo("258841000", "258821234567", "carrier-a", 0, 1)), "-");
  EXPECT_EQ(client(router, mo("+258841000", "+27821234567", "carrier-a")), "-");
}

TEST(MoRouter, NoRouteNoClient) {
  MoRouter empty(std::span<const config::MoRouteConfig>{});
  MoDecision d = empty.route(mo("12345", "1", "carrier-a"));
  EXPECT_FALSE(d.matched());
  EXPECT_EQ(d.route_index, MoDecision::kNoRoute);
  EXPECT_TRUE(d.client.empty());
  config::MoRouteConfig bad;
  bad.name = "bad";
  bad.client = "x";
  bad.match.source_addr = "";
  EXPECT_THROW(MoRouter(std::span(&bad, 1)), std::invalid_argument);
}
