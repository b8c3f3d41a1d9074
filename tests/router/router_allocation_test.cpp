// route() allocates nothing: every operator new is counted while it runs.
#include <gtest/gtest.h>

#include "counting_new.hpp"
#include "router/mo_router.hpp"
#include "router/router.hpp"

using smppd::test::g_allocations;

using namespace smppd;
using namespace smppd::router;

TEST(RouterAllocation, RouteAllocatesNothing) {
  std::vector<config::RouteConfig> routes;
  for (int i = 0; i < 2000; ++i) {
    config::RouteConfig r;
    r.name = "country-operator-route-" + std::to_string(i);  // beyond the small-string buffer
    r.upstream = "upstream-with-a-long-name-" + std::to_string(i % 5);
    r.match.destination_addr = "+" + std::to_string(200 + i % 700) + std::to_string(i) + "*";
    if (i % 7 == 0) r.match.client = "client-a";
    if (i % 11 == 0) r.match.source_addr = "ACME*";
    if (i % 13 == 0)
      r.match.schedule = std::make_shared<config::Schedule>(
          config::Schedule{"Europe/Lisbon", "", 8 * 60, 20 * 60});
    routes.push_back(r);
  }
  config::RouteConfig last;
  last.name = "default";
  last.upstream = "fallback";
  last.match.destination_addr = "*";
  last.match.schedule =
      std::make_shared<config::Schedule>(config::Schedule{"America/New_York", "", 22 * 60, 6 * 60});
  routes.push_back(last);
  config::ClientConfig forced;
  forced.system_id = "forced";
  forced.upstream = "elsewhere";
  std::vector<config::ClientConfig> clients{forced};
  Router router(routes, clients);

  std::vector<config::MoRouteConfig> mo_routes(1);
  mo_routes[0].name = "mo";
  mo_routes[0].client = "client-a";
  mo_routes[0].match.destination_addr = "12345*";
  MoRouter mo(mo_routes);

  const auto now = std::chrono::system_clock::now();
  MessageFacts m;
  m.source_addr = "ACME-SHOP";
  m.client = "client-a";
  const char* destinations[] = {"+2121234567", "+9999999", "2581234", "+7001234567890", ""};
  const long before = g_allocations.load();
  std::size_t matched = 0;
  for (int i = 0; i < 1000; ++i) {
    m.destination_addr = destinations[i % 5];
    m.dest_addr_ton = static_cast<uint8_t>(i % 2);
    m.client = i % 3 == 0 ? "forced" : "client-a";
    matched += router.route(m, now + std::chrono::minutes(i)).matched();
    matched += mo.route({"123456", 0, "+258", 1, "up"}).matched();
  }
  EXPECT_EQ(g_allocations.load() - before, 0);
  EXPECT_GT(matched, 0u);
  // The counter does count: explain() builds strings.
  m.client = "client-a";
  (void)router.explain(m, now);
  EXPECT_GT(g_allocations.load() - before, 0);
}
