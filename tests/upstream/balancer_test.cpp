#include "upstream/balancer.hpp"

#include <gtest/gtest.h>

#include <map>

namespace smppd::upstream {
namespace {

std::vector<config::HostConfig> hosts(std::vector<std::pair<uint32_t, uint32_t>> weight_priority) {
  std::vector<config::HostConfig> out;
  for (auto [w, p] : weight_priority) {
    config::HostConfig h;
    h.weight = w;
    h.priority = p;
    out.push_back(h);
  }
  return out;
}

Candidate up(std::size_t host, uint32_t in_flight = 0) {
  return Candidate{host, true, true, in_flight};
}

TEST(Balancer, RoundRobinTakesTurns) {
  Balancer b(config::LoadBalancing::round_robin, hosts({{1, 1}, {1, 1}, {1, 1}}));
  std::vector<Candidate> c = {up(0), up(1), up(2)};
  std::vector<std::size_t> picks;
  for (int i = 0; i < 6; ++i) picks.push_back(*b.pick(c));
  EXPECT_EQ(picks, (std::vector<std::size_t>{0, 1, 2, 0, 1, 2}));
}

TEST(Balancer, SmoothWeightedRoundRobinFollowsWeightsAndInterleaves) {
  Balancer b(config::LoadBalancing::weighted_round_robin, hosts({{5, 1}, {1, 1}, {1, 1}}));
  std::vector<Candidate> c = {up(0), up(1), up(2)};
  std::map<std::size_t, int> count;
  std::string order;
  for (int i = 0; i < 7; ++i) {
    const auto p = *b.pick(c);
    ++count[p];
    order += char('a' + p);
  }
  EXPECT_EQ(count[0], 5);
  EXPECT_EQ(count[1], 1);
  EXPECT_EQ(count[2], 1);
  EXPECT_EQ(order, "aabacaa");  // nginx's smooth sequence for 5,1,1
  // Over many picks the split is exact.
  count.clear();
  for (int i = 0; i < 7000; ++i) ++count[*b.pick(c)];
  EXPECT_EQ(count[0], 5000);
  EXPECT_EQ(count[1], 1000);
}

TEST(Balancer, BackupPriorityOnlyWhenEveryPrimaryIsDown) {
  Balancer b(config::LoadBalancing::round_robin, hosts({{1, 1}, {1, 2}}));
  std::vector<Candidate> c = {up(0), up(1)};
  for (int i = 0; i < 10; ++i) EXPECT_EQ(*b.pick(c), 0u);
  // The primary is up but busy: requests wait rather than spill to the backup.
  c[0].available = false;
  EXPECT_FALSE(b.pick(c));
  // The primary is down: the backup takes over.
  c[0].up = false;
  EXPECT_EQ(*b.pick(c), 1u);
}

TEST(Balancer, LeastConnectionsPicksTheLeastBusy) {
  Balancer b(config::LoadBalancing::least_connections, hosts({{1, 1}, {1, 1}}));
  std::vector<Candidate> c = {up(0, 5), up(1, 2)};
  EXPECT_EQ(*b.pick(c), 1u);
  c[1].in_flight = 9;
  EXPECT_EQ(*b.pick(c), 0u);
}

// Keys (here the addresses of a /24 and of a few other networks) spread over the hosts, and each
// keeps its host whatever was picked for the others in between, and after a host went down
// and came back.
TEST(Balancer, IpHashSpreadsKeysAndEachStaysPut) {
  Balancer b(config::LoadBalancing::ip_hash, hosts({{1, 1}, {1, 1}, {1, 1}}));
  std::vector<Candidate> c = {up(0), up(1), up(2)};
  std::vector<uint64_t> keys;
  for (uint64_t i = 0; i < 256; ++i) keys.push_back(0x0A000000u + i);            // 10.0.0.0/24
  for (uint64_t i = 0; i < 44; ++i) keys.push_back(0xC0A80001u + (i << 8) + i);  // 192.168.i.*
  std::map<uint64_t, std::size_t> first;
  std::map<std::size_t, int> per_host;
  for (uint64_t key : keys) {
    first[key] = *b.pick(c, key);
    ++per_host[first[key]];
  }
  // 300 keys over 3 hosts: each host has a fair share (100 expected; a hash that always gives
  // one host, or two, fails here).
  ASSERT_EQ(per_host.size(), 3u);
  for (auto [h, n] : per_host) EXPECT_GT(n, 70) << "host " << h;
  // Asked again, in another order: the same hosts.
  for (auto it = keys.rbegin(); it != keys.rend(); ++it) EXPECT_EQ(*b.pick(c, *it), first[*it]);
  // Host 1 goes down and comes back: every key is back on its host.
  c[1].up = c[1].available = false;
  for (uint64_t key : keys) {
    const auto picked = b.pick(c, key);
    ASSERT_TRUE(picked.has_value());
    EXPECT_NE(*picked, 1u);
  }
  c[1].up = c[1].available = true;
  for (uint64_t key : keys) EXPECT_EQ(*b.pick(c, key), first[key]) << "key " << key;
}

// Hosts are compared as a whole: an idle second connection does not make a busy host look free.
TEST(Balancer, LeastConnectionsComparesHostsNotConnections) {
  Balancer b(config::LoadBalancing::least_connections, hosts({{1, 1}, {1, 1}}));
  std::vector<Candidate> c = {up(0, 5), up(0, 0), up(1, 2)};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(*b.pick(c), 2u);
  c[2].in_flight = 6;  // host 1: 6, host 0: 5 -> host 0's least busy connection
  EXPECT_EQ(*b.pick(c), 1u);
}

TEST(Balancer, LeastConnectionsWeighsTheHosts) {
  Balancer b(config::LoadBalancing::least_connections, hosts({{3, 1}, {1, 1}}));
  std::vector<Candidate> c = {up(0, 9), up(1, 4)};  // 9 / 3 < 4 / 1
  EXPECT_EQ(*b.pick(c), 0u);
  c[0].in_flight = 15;  // 15 / 3 > 4 / 1
  EXPECT_EQ(*b.pick(c), 1u);
}

// A key keeps its host when windows fill and empty; when its host has no room it waits.
TEST(Balancer, IpHashKeepsTheHostWhileWindowsComeAndGo) {
  Balancer b(config::LoadBalancing::ip_hash, hosts({{1, 1}, {1, 1}, {1, 1}}));
  // Two connections per host: 0 and 1 to host 0, 2 and 3 to host 1, 4 and 5 to host 2.
  std::vector<Candidate> c = {up(0), up(0), up(1), up(1), up(2), up(2)};
  for (uint64_t key = 1; key <= 50; ++key) {
    const std::size_t host = c[*b.pick(c, key)].host;
    auto full = c;
    // Every other host's connections full, and one of this host's.
    for (auto& x : full) {
      if (x.host != host) x.available = false;
    }
    full[host * 2].available = false;
    const auto again = b.pick(full, key);
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(*again, host * 2 + 1) << "key " << key;
    full[host * 2 + 1].available = false;
    EXPECT_FALSE(b.pick(full, key).has_value()) << "key " << key << " moved to another host";
  }
}

TEST(Balancer, LatencyPrefersTheFastestHost) {
  Balancer b(config::LoadBalancing::latency, hosts({{1, 1}, {1, 1}}));
  b.observe_latency(0, 20);
  b.observe_latency(1, 2);
  std::vector<Candidate> c = {up(0), up(1)};
  EXPECT_EQ(*b.pick(c), 1u);
}

TEST(Balancer, NothingUpIsNothingPicked) {
  Balancer b(config::LoadBalancing::random, hosts({{1, 1}}));
  std::vector<Candidate> c = {Candidate{0, false, false, 0}};
  EXPECT_FALSE(b.pick(c));
}

}  // namespace
}  // namespace smppd::upstream

namespace smppd::upstream {
namespace {

std::vector<config::HostConfig> priced(std::vector<std::map<std::string, double>> tables,
                                       std::vector<uint32_t> weights = {}) {
  std::vector<config::HostConfig> out;
  for (std::size_t i = 0; i < tables.size(); ++i) {
    config::HostConfig h;
    h.weight = i < weights.size() ? weights[i] : 100;
    h.cost = tables[i];
    out.push_back(h);
  }
  return out;
}

TEST(Balancer, CostBasedTakesTheCheapestHostForTheDestination) {
  // The design's example: carrier A is cheaper for +258, B for +27; "*" otherwise.
  Balancer b(config::LoadBalancing::cost_based,
             priced({{{"+258", 0.015}, {"+27", 0.012}, {"*", 0.025}},
                     {{"+258", 0.012}, {"+27", 0.010}, {"+25882", 0.020}, {"*", 0.020}}}));
  std::vector<Candidate> c = {Candidate{0, true, true, 0}, Candidate{1, true, true, 0}};
  EXPECT_EQ(*b.pick(c, 0, "258841234567"), 1u);
  EXPECT_EQ(*b.pick(c, 0, "+258841234567"), 1u) << "a '+' is not a digit";
  // The longest prefix wins: +25882 costs 0.020 at B, so A (0.015 for +258) is cheaper.
  EXPECT_EQ(*b.pick(c, 0, "258821234567"), 0u);
  EXPECT_EQ(*b.pick(c, 0, "49151"), 1u);  // "*": 0.020 < 0.025
  EXPECT_DOUBLE_EQ(b.cost(0, "27821234567"), 0.012);
  EXPECT_DOUBLE_EQ(b.cost(1, "27821234567"), 0.010);
}

TEST(Balancer, CostBasedSkipsADownHostAndWaitsForABusyOne) {
  Balancer b(config::LoadBalancing::cost_based, priced({{{"*", 0.01}}, {{"*", 0.02}}}));
  // The cheapest down (or unhealthy: not up): the next cheapest.
  std::vector<Candidate> c = {Candidate{0, false, false, 0}, Candidate{1, true, true, 0}};
  EXPECT_EQ(*b.pick(c, 0, "1"), 1u);
  // The cheapest up but its window full: wait for it rather than pay more.
  c = {Candidate{0, true, false, 10}, Candidate{1, true, true, 0}};
  EXPECT_FALSE(b.pick(c, 0, "1"));
}

TEST(Balancer, CostBasedTiesGoByWeightAndAHostWithoutPricesIsTheLastResort) {
  Balancer b(config::LoadBalancing::cost_based,
             priced({{{"*", 0.01}}, {{"*", 0.01}}, {}}, {3, 1, 100}));
  std::vector<Candidate> c = {Candidate{0, true, true, 0}, Candidate{1, true, true, 0},
                              Candidate{2, true, true, 0}};
  std::map<std::size_t, int> count;
  for (int i = 0; i < 8; ++i) ++count[*b.pick(c, 0, "1")];
  EXPECT_EQ(count[0], 6);
  EXPECT_EQ(count[1], 2);
  EXPECT_EQ(count[2], 0);
  c = {Candidate{0, false, false, 0}, Candidate{1, false, false, 0}, Candidate{2, true, true, 0}};
  EXPECT_EQ(*b.pick(c, 0, "1"), 2u);
}

}  // namespace
}  // namespace smppd::upstream
