// What a route costs in memory, counted rather than timed: every operator new and delete is
// tallied (malloc_usable_size) while 20,000 routes of bench/config/gen_config.py's shape are
// loaded and compiled. The bounds keep 100,000 routes well under 100 MB for the daemon; the
// time it takes is measured in bench/ (bench/README.md, "Configuration size").
#include <gtest/gtest.h>
#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "config/loader.hpp"
#include "router/router.hpp"

namespace {
std::atomic<long long> g_live{0};
std::atomic<long long> g_peak{0};

void count(void* p, long long sign) {
  const long long now = g_live.fetch_add(sign * static_cast<long long>(malloc_usable_size(p))) +
                        sign * static_cast<long long>(malloc_usable_size(p));
  long long peak = g_peak.load();
  while (now > peak && !g_peak.compare_exchange_weak(peak, now)) {
  }
}
}  // namespace

void* operator new(std::size_t size) {
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  count(p, 1);
  return p;
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p != nullptr) count(p, 1);
  return p;
}
void operator delete(void* p) noexcept {
  if (p == nullptr) return;
  count(p, -1);
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  operator delete(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  operator delete(p);
}

using namespace smppd;

namespace {

constexpr int kRoutes = 20000;

// The shape of bench/config/gen_config.py: every route a destination prefix of its own, one in
// three with a failover, one in eleven with a source, one in thirteen with a schedule.
std::string routes_yaml() {
  std::string y = "listeners:\n  - { type: smpp, address: \"127.0.0.1:0\" }\nupstreams:\n";
  for (int u = 0; u < 5; ++u)
    y += "  - { name: carrier-" + std::to_string(u) + ", type: simulator }\n";
  y += "routes:\n";
  for (int i = 0; i < kRoutes; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "route-%07d", i);
    y += "  - name: " + std::string(name) + "\n    match:\n      destination_addr: \"+" +
         std::to_string(200 + i % 700) + std::to_string(i) + "*\"\n";
    if (i % 11 == 0) y += "      source_addr: \"ACME*\"\n";
    if (i % 13 == 0) y += "      schedule: { hours: \"08:00-20:00\", timezone: Europe/Lisbon }\n";
    y += "    upstream: carrier-" + std::to_string(i % 5) + "\n";
    if (i % 3 == 0) y += "    failover: carrier-" + std::to_string((i + 1) % 5) + "\n";
  }
  return y;
}

}  // namespace

TEST(RouterMemory, BytesPerRouteLoadedAndCompiled) {
  const std::string yaml = routes_yaml();
  const long long before = g_live.load();
  g_peak = before;
  auto loaded = config::load_config_string(yaml, "routes.yaml");
  ASSERT_TRUE(loaded.ok());
  const long long load_peak = g_peak.load() - before;
  const long long config_bytes = g_live.load() - before;
  const long long before_router = g_live.load();
  auto router = std::make_unique<router::Router>(*loaded.config);
  const long long router_bytes = g_live.load() - before_router;
  ASSERT_EQ(router->size(), static_cast<std::size_t>(kRoutes));

  const long long per_route_peak = load_peak / kRoutes;
  const long long per_route_config = config_bytes / kRoutes;
  const long long per_route_router = router_bytes / kRoutes;
  std::printf("per route: load peak %lld B (YAML %zu B), config %lld B, router %lld B\n",
              per_route_peak, yaml.size() / kRoutes, per_route_config, per_route_router);
  // Was: yaml-cpp's tree, about 5,000 B a route at the peak; the router kept a copy of each
  // route's configuration (424 B) beside its own 380 B.
  EXPECT_LT(per_route_peak, 1100);
  EXPECT_LT(per_route_config, 500);
  EXPECT_LT(per_route_router, 250);
}
