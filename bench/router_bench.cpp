// Routing decisions per second with a large, realistic route table (bench/README.md).
//
// The table: for each of 200 country codes (1 to 3 digits), operator prefixes of 2 and 3 more
// digits and a few number blocks of 5 more, then the country itself; about 1 route in 15 also
// names a client, a sender or a sender TON, 1 in 100 a schedule; a catch-all "*" last. Messages:
// numbers under those prefixes (with '+' or as TON 1), some of countries without a route.
#include <benchmark/benchmark.h>

#include <chrono>
#include <random>
#include <string>
#include <vector>

#include "router/mo_router.hpp"
#include "router/router.hpp"

namespace {

using namespace smppd;

struct Table {
  std::vector<config::RouteConfig> routes;
  std::vector<std::string> numbers;  // destinations, as PDUs write them
  std::vector<uint8_t> tons;
};

std::string digits(std::mt19937& rng, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += static_cast<char>('0' + rng() % 10);
  return s;
}

Table make_table(std::size_t count) {
  std::mt19937 rng(42);
  Table t;
  std::vector<std::string> countries = {"1", "7"};
  while (countries.size() < 60) countries.push_back(std::to_string(20 + rng() % 80));
  while (countries.size() < 200) countries.push_back(std::to_string(200 + rng() % 800));
  if (count <= countries.size()) countries.resize(count > 1 ? count - 1 : 1);
  std::vector<config::RouteConfig> specific;
  std::vector<config::RouteConfig> national;
  const std::vector<std::string> clients = {"client-a", "client-b", "bulk-1", "bulk-2"};
  std::size_t n = 0;
  auto route = [&](const std::string& pattern) {
    config::RouteConfig r;
    r.name = "route-" + std::to_string(n++);
    r.upstream = "carrier-" + std::to_string(rng() % 20);
    r.failover = rng() % 2 ? "backup" : "";
    r.match.destination_addr = pattern;
    const auto extra = rng() % 100;
    if (extra < 3)
      r.match.client = clients[rng() % clients.size()];
    else if (extra < 5)
      r.match.source_addr = "ACME*";
    else if (extra < 7)
      r.match.source_addr_ton = 5;
    else if (extra < 8)
      r.match.schedule = std::make_shared<config::Schedule>(
          config::Schedule{"Africa/Maputo", "", 22 * 60, 6 * 60});
    return r;
  };
  while (specific.size() + countries.size() + 1 < count) {
    const std::string& cc = countries[rng() % countries.size()];
    const int more = rng() % 10 < 4 ? 2 : rng() % 10 < 8 ? 3 : 5;
    specific.push_back(route("+" + cc + digits(rng, more) + "*"));
  }
  for (const auto& cc : countries) national.push_back(route("+" + cc + "*"));
  t.routes = specific;
  t.routes.insert(t.routes.end(), national.begin(), national.end());
  config::RouteConfig fallback;
  fallback.name = "default";
  fallback.upstream = "carrier-0";
  fallback.match.destination_addr = "*";
  t.routes.push_back(fallback);

  // Numbers: 80 % under a specific prefix, 15 % under a country only, 5 % elsewhere.
  for (int i = 0; i < 8192; ++i) {
    std::string number;
    const auto kind = rng() % 100;
    if (kind < 80 && !specific.empty()) {
      number = specific[rng() % specific.size()].match.destination_addr->substr(1);
      number.pop_back();
    } else if (kind < 95) {
      number = countries[rng() % countries.size()];
    } else {
      number = "0";
    }
    number += digits(rng, static_cast<int>(12 - std::min<std::size_t>(number.size(), 8)));
    const bool plus = rng() % 10 < 7;
    t.numbers.push_back(plus ? "+" + number : number);
    t.tons.push_back(plus ? 0 : 1);
  }
  return t;
}

void BM_Route(benchmark::State& state) {
  const Table t = make_table(static_cast<std::size_t>(state.range(0)));
  const std::vector<config::ClientConfig> clients;
  const router::Router router(t.routes, clients);
  const auto now = std::chrono::system_clock::now();
  router::MessageFacts m;
  m.source_addr = "ACME-SHOP";
  m.source_addr_ton = 5;
  m.client = "client-a";
  std::size_t i = 0;
  std::size_t matched = 0;
  for (auto _ : state) {
    const std::size_t k = i++ & (t.numbers.size() - 1);
    m.destination_addr = t.numbers[k];
    m.dest_addr_ton = t.tons[k];
    auto d = router.route(m, now);
    benchmark::DoNotOptimize(d);
    matched += d.route_index != router::Decision::kNoRoute && d.route_name != "default";
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["routes"] = static_cast<double>(t.routes.size());
  state.counters["specific_match_%"] =
      100.0 * static_cast<double>(matched) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_Route)->Arg(10)->Arg(1000)->Arg(10000)->Arg(100000);

// For comparison: the same decisions by trying every route in order (what the Router avoids).
void BM_LinearScan(benchmark::State& state) {
  const Table t = make_table(static_cast<std::size_t>(state.range(0)));
  struct Plain {
    std::string prefix;  // without '+' and '*'; empty for "*"
    bool any;
    const config::RouteConfig* route;
  };
  std::vector<Plain> plain;
  for (const auto& r : t.routes) {
    std::string p = *r.match.destination_addr;
    const bool any = p == "*";
    if (!any) p = p.substr(1, p.size() - 2);
    plain.push_back({p, any, &r});
  }
  std::size_t i = 0;
  for (auto _ : state) {
    const std::size_t k = i++ & (t.numbers.size() - 1);
    std::string_view a = t.numbers[k];
    if (!a.empty() && a.front() == '+') a.remove_prefix(1);
    const config::RouteConfig* found = nullptr;
    for (const auto& p : plain) {
      if (p.any || a.starts_with(p.prefix)) {
        // The other conditions, as cheaply as possible: only the unconditional routes count.
        const auto& match = p.route->match;
        if (!match.client && !match.source_addr && !match.source_addr_ton && !match.schedule) {
          found = p.route;
          break;
        }
      }
    }
    benchmark::DoNotOptimize(found);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LinearScan)->Arg(10)->Arg(1000)->Arg(10000);

void BM_MoRoute(benchmark::State& state) {
  std::vector<config::MoRouteConfig> routes;
  for (int i = 0; i < state.range(0); ++i) {
    config::MoRouteConfig r;
    r.name = "mo-" + std::to_string(i);
    r.client = "client-" + std::to_string(i % 50);
    r.match.destination_addr = std::to_string(10000 + i);
    if (i % 3 == 0) r.match.upstream = "carrier-" + std::to_string(i % 7);
    routes.push_back(r);
  }
  const router::MoRouter router(routes);
  std::vector<std::string> codes;
  for (int i = 0; i < 1024; ++i) codes.push_back(std::to_string(10000 + (i * 7919) % 12000));
  std::size_t i = 0;
  for (auto _ : state) {
    router::MoFacts m{codes[i++ & 1023], 0, "+258841234567", 1, "carrier-3"};
    benchmark::DoNotOptimize(router.route(m));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MoRoute)->Arg(10000);

}  // namespace

BENCHMARK_MAIN();
