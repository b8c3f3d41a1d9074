#include "limits/connection_limits.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <utility>
#include <vector>

#include "limits/reasons.hpp"
#include "limits/test_util.hpp"

using namespace smppd::limits;
using smppd::test::ip;

namespace {

std::shared_ptr<ClientSessionCounter> counter() {
  return std::make_shared<ClientSessionCounter>();
}

ConnectionLease admit(ConnectionLimits& limits, std::string_view address) {
  Admission a = limits.acquire_connection(ip(address));
  EXPECT_TRUE(a) << address << ": " << a.reason;
  EXPECT_TRUE(a.reason.empty());
  return std::move(a.lease);
}

std::string_view refusal(ConnectionLimits& limits, std::string_view address) {
  Admission a = limits.acquire_connection(ip(address));
  EXPECT_FALSE(a) << address;
  EXPECT_FALSE(a.lease);
  return a.reason;
}

}  // namespace

TEST(ConnectionLimits, UnlimitedByDefault) {
  ConnectionLimits limits({}, counter());
  std::vector<ConnectionLease> leases;
  for (int i = 0; i < 100; ++i) leases.push_back(admit(limits, "192.0.2.1"));
  EXPECT_EQ(limits.connections(), 100u);
  EXPECT_EQ(limits.connections_from(ip("192.0.2.1")), 100u);
  leases.clear();
  EXPECT_EQ(limits.connections(), 0u);
  EXPECT_EQ(limits.tracked_peers(), 0u);
}

TEST(ConnectionLimits, TotalLimit) {
  ConnectionLimits limits({.total = 2}, counter());
  auto a = admit(limits, "192.0.2.1");
  auto b = admit(limits, "2001:db8::1");
  EXPECT_EQ(refusal(limits, "192.0.2.3"), reason::kMaxConnections);
  EXPECT_EQ(limits.connections(), 2u);
  b.release();
  EXPECT_FALSE(b);
  EXPECT_EQ(limits.connections(), 1u);
  auto c = admit(limits, "192.0.2.3");
}

TEST(ConnectionLimits, PerIpLimitIpv4AndIpv6) {
  ConnectionLimits limits({.per_ip = 2}, counter());
  auto a1 = admit(limits, "192.0.2.1");
  auto a2 = admit(limits, "192.0.2.1");
  EXPECT_EQ(refusal(limits, "192.0.2.1"), reason::kMaxConnectionsPerIp);
  auto b1 = admit(limits, "192.0.2.2");
  // An IPv6 peer is its /64: moving within it does not get around the limit.
  auto v1 = admit(limits, "2001:db8::1");
  auto v2 = admit(limits, "2001:db8::1");
  EXPECT_EQ(refusal(limits, "2001:db8::1"), reason::kMaxConnectionsPerIp);
  EXPECT_EQ(refusal(limits, "2001:db8::ffff:2"), reason::kMaxConnectionsPerIp);
  auto v3 = admit(limits, "2001:db8:0:1::1");
  EXPECT_EQ(limits.connections(), 6u);
  EXPECT_EQ(limits.tracked_peers(), 4u);
  EXPECT_EQ(limits.connections_from(ip("2001:db8::7")), 2u);
  { ConnectionLease gone = std::move(a2); }
  auto a3 = admit(limits, "192.0.2.1");
}

TEST(ConnectionLimits, MappedIpv6CountsAsItsIpv4Address) {
  ConnectionLimits limits({.per_ip = 2}, counter());
  auto a = admit(limits, "192.0.2.1");
  auto b = admit(limits, "::ffff:192.0.2.1");
  EXPECT_EQ(refusal(limits, "192.0.2.1"), reason::kMaxConnectionsPerIp);
  EXPECT_EQ(refusal(limits, "::ffff:192.0.2.1"), reason::kMaxConnectionsPerIp);
  EXPECT_EQ(limits.connections_from(ip("192.0.2.1")), 2u);
  EXPECT_EQ(limits.tracked_peers(), 1u);
}

TEST(ConnectionLimits, TotalIsCheckedBeforePerIp) {
  ConnectionLimits limits({.total = 1, .per_ip = 1}, counter());
  auto a = admit(limits, "192.0.2.1");
  EXPECT_EQ(refusal(limits, "192.0.2.1"), reason::kMaxConnections);
}

TEST(ConnectionLease, ReleasesOnDestruction) {
  ConnectionLimits limits({.total = 1}, counter());
  {
    auto a = admit(limits, "192.0.2.1");
    EXPECT_EQ(limits.connections(), 1u);
  }
  EXPECT_EQ(limits.connections(), 0u);
  EXPECT_EQ(limits.tracked_peers(), 0u);
  auto b = admit(limits, "192.0.2.1");
}

TEST(ConnectionLease, MoveTransfersTheCountsOnce) {
  auto clients = counter();
  ConnectionLimits limits({}, clients);
  auto a = admit(limits, "192.0.2.1");
  ASSERT_EQ(a.attach_client("acme", 0), std::nullopt);

  ConnectionLease b(std::move(a));
  EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): a moved-from lease is empty
  EXPECT_FALSE(a.has_client());
  EXPECT_TRUE(b);
  EXPECT_EQ(b.client(), "acme");
  a.release();  // an empty lease gives back nothing
  EXPECT_EQ(limits.connections(), 1u);
  EXPECT_EQ(limits.client_sessions("acme"), 1u);

  ConnectionLease c;
  c = std::move(b);
  EXPECT_EQ(limits.connections(), 1u);
  EXPECT_EQ(clients->sessions("acme"), 1u);

  // Assigning over a lease gives back what it held.
  c = admit(limits, "192.0.2.2");
  EXPECT_EQ(limits.connections(), 1u);
  EXPECT_EQ(limits.connections_from(ip("192.0.2.1")), 0u);
  EXPECT_EQ(limits.client_sessions("acme"), 0u);
  EXPECT_EQ(clients->sessions("acme"), 0u);

  c = ConnectionLease();
  EXPECT_EQ(limits.connections(), 0u);
  EXPECT_EQ(limits.tracked_peers(), 0u);
  EXPECT_EQ(limits.tracked_clients(), 0u);
  EXPECT_EQ(clients->clients(), 0u);
}

TEST(ConnectionLease, OutlivesItsLimits) {
  auto clients = counter();
  ConnectionLease lease;
  {
    ConnectionLimits limits({.total = 1}, clients);
    lease = admit(limits, "192.0.2.1");
    ASSERT_EQ(lease.attach_client("acme", 1), std::nullopt);
  }
  EXPECT_EQ(clients->sessions("acme"), 1u);
  lease.release();
  EXPECT_EQ(clients->sessions("acme"), 0u);
}

TEST(ConnectionLease, ListenerPerClientLimit) {
  auto clients = counter();
  ConnectionLimits limits({.per_client = 2}, clients);
  auto a = admit(limits, "192.0.2.1");
  auto b = admit(limits, "192.0.2.2");
  auto c = admit(limits, "192.0.2.3");
  auto d = admit(limits, "192.0.2.4");
  EXPECT_EQ(a.attach_client("acme", 0), std::nullopt);
  EXPECT_EQ(b.attach_client("acme", 0), std::nullopt);
  EXPECT_EQ(c.attach_client("acme", 0), reason::kMaxConnectionsPerClient);
  EXPECT_FALSE(c.has_client());
  EXPECT_EQ(d.attach_client("other", 0), std::nullopt);
  EXPECT_EQ(limits.client_sessions("acme"), 2u);
  EXPECT_EQ(clients->sessions("acme"), 2u);  // the refused one counted nowhere
  a.detach_client();
  EXPECT_TRUE(a);
  EXPECT_EQ(limits.connections(), 4u);
  EXPECT_EQ(c.attach_client("acme", 0), std::nullopt);
}

TEST(ConnectionLease, ClientMaxConnectionsCountsAcrossListeners) {
  auto clients = counter();
  ConnectionLimits smpp({}, clients);
  ConnectionLimits smpp_tls({}, clients);
  auto a = admit(smpp, "192.0.2.1");
  auto b = admit(smpp_tls, "192.0.2.1");
  auto c = admit(smpp_tls, "192.0.2.1");
  EXPECT_EQ(a.attach_client("acme", 2), std::nullopt);
  EXPECT_EQ(b.attach_client("acme", 2), std::nullopt);
  EXPECT_EQ(c.attach_client("acme", 2), reason::kClientMaxConnections);
  EXPECT_EQ(smpp_tls.client_sessions("acme"), 1u);  // nothing counted for the refused one
  EXPECT_EQ(clients->sessions("acme"), 2u);
  a.release();
  EXPECT_EQ(c.attach_client("acme", 2), std::nullopt);
  EXPECT_EQ(clients->sessions("acme"), 2u);
}

TEST(ConnectionLease, ListenerLimitIsReportedBeforeTheClientLimit) {
  ConnectionLimits limits({.per_client = 1}, counter());
  auto a = admit(limits, "192.0.2.1");
  auto b = admit(limits, "192.0.2.1");
  ASSERT_EQ(a.attach_client("acme", 1), std::nullopt);
  EXPECT_EQ(b.attach_client("acme", 1), reason::kMaxConnectionsPerClient);
}

TEST(ConnectionLease, AttachingAgainReplacesTheClient) {
  auto clients = counter();
  ConnectionLimits limits({.per_client = 1}, clients);
  auto a = admit(limits, "192.0.2.1");
  ASSERT_EQ(a.attach_client("acme", 1), std::nullopt);
  ASSERT_EQ(a.attach_client("acme", 1), std::nullopt);  // its own count is given back first
  EXPECT_EQ(clients->sessions("acme"), 1u);
  ASSERT_EQ(a.attach_client("other", 1), std::nullopt);
  EXPECT_EQ(clients->sessions("acme"), 0u);
  EXPECT_EQ(clients->sessions("other"), 1u);
  EXPECT_EQ(limits.tracked_clients(), 1u);
}

TEST(ConnectionLimits, NewLimitsApplyToLaterConnections) {
  ConnectionLimits limits({.total = 3}, counter());
  auto a = admit(limits, "192.0.2.1");
  auto b = admit(limits, "192.0.2.1");
  limits.set_limits({.total = 1});
  EXPECT_EQ(limits.connections(), 2u);  // nobody is thrown out
  EXPECT_EQ(refusal(limits, "192.0.2.2"), reason::kMaxConnections);
  a.release();
  b.release();
  auto c = admit(limits, "192.0.2.2");
}

TEST(ConnectionLimits, LimitsFromListenerConfig) {
  smppd::config::ListenerConfig listener;
  listener.max_connections = 7;
  listener.max_connections_per_ip = 3;
  listener.max_connections_per_client = 2;
  listener.max_unbound_connections = 5;
  listener.max_unbound_connections_per_ip = 1;
  auto l = ConnectionLimits::Limits::of(listener);
  EXPECT_EQ(l.total, 7u);
  EXPECT_EQ(l.per_ip, 3u);
  EXPECT_EQ(l.per_client, 2u);
  EXPECT_EQ(l.unbound, 5u);
  EXPECT_EQ(l.unbound_per_ip, 1u);
}

TEST(ConnectionLimits, SafeDefaults) {
  // One address cannot hold every slot: the defaults bound it, bound or not.
  auto l = ConnectionLimits::Limits::of(smppd::config::ListenerConfig{});
  EXPECT_EQ(l.total, 10000u);
  EXPECT_EQ(l.per_ip, 100u);
  EXPECT_EQ(l.unbound, 1000u);
  EXPECT_EQ(l.unbound_per_ip, 10u);
  EXPECT_EQ(l.per_client, 0u);
}

// ---- unbound connections ----

TEST(ConnectionLimits, UnboundPerIpLeavesRoomForOthers) {
  ConnectionLimits limits({.total = 100, .unbound_per_ip = 3}, counter());
  std::vector<ConnectionLease> idle;
  for (int i = 0; i < 3; ++i) idle.push_back(admit(limits, "192.0.2.1"));
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(refusal(limits, "192.0.2.1"), reason::kMaxUnboundConnectionsPerIp);
  }
  EXPECT_EQ(limits.connections(), 3u);
  EXPECT_EQ(limits.unbound_connections_from(ip("192.0.2.1")), 3u);
  auto other = admit(limits, "192.0.2.2");
  for (int i = 0; i < 3; ++i) idle.push_back(admit(limits, "2001:db8::" + std::to_string(i + 1)));
  EXPECT_EQ(refusal(limits, "2001:db8::ffff"), reason::kMaxUnboundConnectionsPerIp);  // same /64
  EXPECT_EQ(limits.unbound_connections(), 7u);
}

TEST(ConnectionLimits, ABoundSessionStopsCountingAsUnbound) {
  ConnectionLimits limits({.unbound = 2, .unbound_per_ip = 1}, counter());
  auto a = admit(limits, "192.0.2.1");
  EXPECT_TRUE(a.unbound());
  EXPECT_EQ(refusal(limits, "192.0.2.1"), reason::kMaxUnboundConnectionsPerIp);
  ASSERT_EQ(a.attach_client("acme", 0), std::nullopt);
  EXPECT_FALSE(a.unbound());
  EXPECT_EQ(limits.unbound_connections(), 0u);
  // The bound session leaves room for one more unbound connection from its address.
  auto b = admit(limits, "192.0.2.1");
  EXPECT_EQ(limits.connections_from(ip("192.0.2.1")), 2u);
  EXPECT_EQ(limits.unbound_connections_from(ip("192.0.2.1")), 1u);
  // A refused attach leaves the connection unbound.
  ConnectionLimits strict({.per_client = 1}, counter());
  auto c = admit(strict, "192.0.2.1");
  auto d = admit(strict, "192.0.2.1");
  ASSERT_EQ(c.attach_client("acme", 0), std::nullopt);
  EXPECT_EQ(d.attach_client("acme", 0), reason::kMaxConnectionsPerClient);
  EXPECT_TRUE(d.unbound());
  EXPECT_EQ(strict.unbound_connections(), 1u);
  // Unbinding (detach) does not count the connection as unbound again: it closes after.
  c.detach_client();
  EXPECT_EQ(strict.unbound_connections(), 1u);
}

TEST(ConnectionLimits, UnboundTotalLeavesRoomOnlyForBinds) {
  ConnectionLimits limits({.total = 10, .unbound = 2}, counter());
  auto a = admit(limits, "192.0.2.1");
  auto b = admit(limits, "192.0.2.2");
  EXPECT_EQ(refusal(limits, "192.0.2.3"), reason::kMaxUnboundConnections);
  ASSERT_EQ(a.attach_client("acme", 0), std::nullopt);
  auto c = admit(limits, "192.0.2.3");
  EXPECT_EQ(limits.connections(), 3u);
  EXPECT_EQ(limits.unbound_connections(), 2u);
}

TEST(ConnectionLease, GivesBackItsUnboundCountsOnceWhateverTheWay) {
  ConnectionLimits limits({.unbound_per_ip = 5}, counter());
  {
    auto a = admit(limits, "192.0.2.1");
    ConnectionLease moved(std::move(a));
    ConnectionLease assigned;
    assigned = std::move(moved);
    EXPECT_EQ(limits.unbound_connections(), 1u);
    auto b = admit(limits, "192.0.2.1");
    ASSERT_EQ(b.attach_client("acme", 0), std::nullopt);
    b.release();
    b.release();
    EXPECT_EQ(limits.unbound_connections(), 1u);
    assigned = admit(limits, "192.0.2.2");  // gives back .1's
    EXPECT_EQ(limits.unbound_connections_from(ip("192.0.2.1")), 0u);
  }
  EXPECT_EQ(limits.unbound_connections(), 0u);
  EXPECT_EQ(limits.connections(), 0u);
  EXPECT_EQ(limits.tracked_peers(), 0u);
}

TEST(ConnectionLimits, RefusedPeersLeaveNothingBehind) {
  ConnectionLimits limits({.total = 1}, counter());
  auto a = admit(limits, "192.0.2.1");
  for (int i = 0; i < 100; ++i) refusal(limits, "10.0.0." + std::to_string(i));
  EXPECT_EQ(limits.tracked_peers(), 1u);
}

TEST(ConnectionLimits, ConcurrentAcquireAndReleaseEndsAtZero) {
  auto clients = counter();
  const ConnectionLimits::Limits l{
      .total = 50, .per_ip = 10, .per_client = 8, .unbound = 20, .unbound_per_ip = 6};
  ConnectionLimits first(l, clients);
  ConnectionLimits second(l, clients);
  const std::vector<std::vector<uint8_t>> peers = {ip("192.0.2.1"), ip("::ffff:192.0.2.1"),
                                                   ip("2001:db8::1"), ip("198.51.100.9")};
  const char* ids[] = {"acme", "beta", "gamma"};
  std::atomic<int> admitted{0};
  std::atomic<int> attached{0};
  std::atomic<bool> over_limit{false};

  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      ConnectionLimits& limits = t % 2 ? first : second;
      std::vector<ConnectionLease> held;
      for (int i = 0; i < 3000; ++i) {
        const auto& peer = peers[static_cast<size_t>(i + t) % peers.size()];
        Admission a = limits.acquire_connection(peer);
        if (a) {
          ++admitted;
          if (a.lease.attach_client(ids[(i * 7 + t) % 3], 12) == std::nullopt) ++attached;
          held.push_back(std::move(a.lease));
        }
        if (clients->sessions("acme") > 12 || limits.connections() > 50 ||
            limits.unbound_connections() > 20) {
          over_limit = true;
        }
        // Let go of some in an order unlike the order of acquisition.
        if (held.size() > 5 || (i % 3 == 0 && !held.empty())) {
          size_t victim = static_cast<size_t>(i) % held.size();
          std::swap(held[victim], held.back());
          held.pop_back();
        }
      }
    });
  }
  for (auto& th : threads) th.join();

  EXPECT_GT(admitted.load(), 0);
  EXPECT_GT(attached.load(), 0);
  EXPECT_FALSE(over_limit.load());
  for (ConnectionLimits* limits : {&first, &second}) {
    EXPECT_EQ(limits->connections(), 0u);
    EXPECT_EQ(limits->unbound_connections(), 0u);
    EXPECT_EQ(limits->tracked_peers(), 0u);
    EXPECT_EQ(limits->tracked_clients(), 0u);
  }
  EXPECT_EQ(clients->clients(), 0u);
}
