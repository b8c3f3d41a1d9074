#include "auth/throttle.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "limits/test_util.hpp"

using namespace smppd::auth;
using namespace std::chrono_literals;
using smppd::test::ip;
using Clock = AuthFailureThrottle::Clock;

namespace {

const Clock::time_point t0{std::chrono::hours(1)};

// The delay for the next failure, recorded as the bind path does it.
std::chrono::milliseconds fail(AuthFailureThrottle& throttle, std::string_view peer,
                               Clock::time_point now) {
  auto delay = throttle.delay_before_reply(ip(peer), now);
  EXPECT_EQ(throttle.record_failure(ip(peer), now), delay);
  return delay;
}

}  // namespace

TEST(AuthFailureThrottle, EscalatesAndCaps) {
  AuthFailureThrottle throttle;
  const std::vector<std::chrono::milliseconds> expected = {0ms,    250ms,  500ms,  1000ms, 2000ms,
                                                           4000ms, 5000ms, 5000ms, 5000ms};
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(fail(throttle, "192.0.2.1", t0 + std::chrono::seconds(i)), expected[i])
        << "failure " << i + 1;
  }
  EXPECT_EQ(throttle.failures(ip("192.0.2.1"), t0 + 9s), expected.size());
}

TEST(AuthFailureThrottle, PeersAreCountedApart) {
  AuthFailureThrottle throttle;
  fail(throttle, "192.0.2.1", t0);
  fail(throttle, "192.0.2.1", t0);
  EXPECT_EQ(throttle.delay_before_reply(ip("192.0.2.1"), t0), 500ms);
  EXPECT_EQ(throttle.delay_before_reply(ip("192.0.2.2"), t0), 0ms);
  EXPECT_EQ(throttle.delay_before_reply(ip("2001:db8::1"), t0), 0ms);
}

TEST(AuthFailureThrottle, MappedIpv6IsItsIpv4Peer) {
  AuthFailureThrottle throttle;
  fail(throttle, "192.0.2.1", t0);
  EXPECT_EQ(fail(throttle, "::ffff:192.0.2.1", t0), 250ms);
}

TEST(AuthFailureThrottle, Ipv6CountsPerSlash64) {
  AuthFailureThrottle throttle;
  fail(throttle, "2001:db8:0:1::1", t0);
  EXPECT_EQ(fail(throttle, "2001:db8:0:1::2", t0), 250ms);  // same /64, new address
  EXPECT_EQ(fail(throttle, "2001:db8:0:2::1", t0), 0ms);    // another /64
}

TEST(AuthFailureThrottle, SuccessResets) {
  AuthFailureThrottle throttle;
  for (int i = 0; i < 4; ++i) fail(throttle, "192.0.2.1", t0);
  throttle.record_success(ip("192.0.2.1"));
  EXPECT_EQ(throttle.failures(ip("192.0.2.1"), t0), 0u);
  EXPECT_EQ(throttle.tracked_peers(), 0u);
  EXPECT_EQ(fail(throttle, "192.0.2.1", t0), 0ms);
  EXPECT_EQ(fail(throttle, "192.0.2.1", t0), 250ms);
  throttle.record_success(ip("192.0.2.9"));  // unknown peer: nothing happens
  EXPECT_EQ(throttle.tracked_peers(), 1u);
}

TEST(AuthFailureThrottle, ForgetsAfterAMinuteWithoutFailures) {
  AuthFailureThrottle throttle;
  for (int i = 0; i < 3; ++i) fail(throttle, "192.0.2.1", t0);
  EXPECT_EQ(throttle.delay_before_reply(ip("192.0.2.1"), t0 + 59s), 1000ms);
  EXPECT_EQ(throttle.delay_before_reply(ip("192.0.2.1"), t0 + 60s), 0ms);
  // A failure keeps the memory fresh: the minute counts from the last one.
  fail(throttle, "192.0.2.2", t0);
  fail(throttle, "192.0.2.2", t0 + 50s);
  EXPECT_EQ(throttle.delay_before_reply(ip("192.0.2.2"), t0 + 100s), 500ms);
  // After forgetting, counting starts afresh.
  EXPECT_EQ(fail(throttle, "192.0.2.1", t0 + 61s), 0ms);
  EXPECT_EQ(throttle.failures(ip("192.0.2.1"), t0 + 61s), 1u);
}

TEST(AuthFailureThrottle, ForgetsEvenWhenTimesArriveOutOfOrder) {
  // Threads read the clock before taking the lock, so a later failure may carry an earlier time.
  AuthFailureThrottle throttle;
  fail(throttle, "192.0.2.1", t0 + 10s);
  fail(throttle, "192.0.2.2", t0);
  fail(throttle, "192.0.2.2", t0);
  EXPECT_EQ(fail(throttle, "192.0.2.2", t0 + 65s), 0ms);
  EXPECT_EQ(throttle.failures(ip("192.0.2.2"), t0 + 65s), 1u);
}

TEST(AuthFailureThrottle, ForgottenPeersLeaveTheTable) {
  AuthFailureThrottle throttle;
  for (int i = 0; i < 100; ++i) {
    fail(throttle, "10.0.0." + std::to_string(i), t0);
  }
  EXPECT_EQ(throttle.tracked_peers(), 100u);
  fail(throttle, "192.0.2.1", t0 + 2min);
  EXPECT_EQ(throttle.tracked_peers(), 1u);
}

TEST(AuthFailureThrottle, TableIsBoundedAndEvictsTheOldest) {
  AuthFailureThrottle throttle({.max_peers = 3});
  fail(throttle, "192.0.2.1", t0);
  fail(throttle, "192.0.2.2", t0 + 1s);
  fail(throttle, "192.0.2.3", t0 + 2s);
  fail(throttle, "192.0.2.1", t0 + 3s);  // now the most recent
  fail(throttle, "192.0.2.4", t0 + 4s);  // evicts .2, the oldest last failure
  EXPECT_EQ(throttle.tracked_peers(), 3u);
  EXPECT_EQ(throttle.failures(ip("192.0.2.2"), t0 + 4s), 0u);
  EXPECT_EQ(throttle.failures(ip("192.0.2.1"), t0 + 4s), 2u);
  EXPECT_EQ(throttle.failures(ip("192.0.2.3"), t0 + 4s), 1u);
  EXPECT_EQ(throttle.failures(ip("192.0.2.4"), t0 + 4s), 1u);
}

TEST(AuthFailureThrottle, DefaultBoundIsTenThousand) {
  AuthFailureThrottle throttle;
  for (int i = 0; i < 10050; ++i) {
    std::string peer = "10." + std::to_string(i / 65536) + "." + std::to_string((i / 256) % 256) +
                       "." + std::to_string(i % 256);
    throttle.record_failure(ip(peer), t0);
  }
  EXPECT_EQ(throttle.tracked_peers(), 10000u);
  EXPECT_EQ(throttle.failures(ip("10.0.0.0"), t0), 0u);    // among the oldest, evicted
  EXPECT_EQ(throttle.failures(ip("10.0.39.65"), t0), 1u);  // the last one (10049)
}

TEST(AuthFailureThrottle, CustomSettings) {
  AuthFailureThrottle throttle({.first_delay = 100ms, .max_delay = 300ms, .forget_after = 5s});
  EXPECT_EQ(fail(throttle, "192.0.2.1", t0), 0ms);
  EXPECT_EQ(fail(throttle, "192.0.2.1", t0), 100ms);
  EXPECT_EQ(fail(throttle, "192.0.2.1", t0), 200ms);
  EXPECT_EQ(fail(throttle, "192.0.2.1", t0), 300ms);
  EXPECT_EQ(throttle.delay_before_reply(ip("192.0.2.1"), t0 + 5s), 0ms);
}

TEST(AuthFailureThrottle, ConcurrentFailuresAreAllCounted) {
  AuthFailureThrottle throttle;
  std::atomic<int> first{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        throttle.delay_before_reply(ip("192.0.2.1"), t0);
        if (throttle.record_failure(ip("192.0.2.1"), t0) == 0ms) ++first;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(throttle.failures(ip("192.0.2.1"), t0), 2000u);
  EXPECT_EQ(first.load(), 1);  // only one failure saw an empty record
  EXPECT_EQ(throttle.delay_before_reply(ip("192.0.2.1"), t0), 5000ms);
}
