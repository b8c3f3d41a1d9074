#include "auth/throttle.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "limits/test_util.hpp"

using namespace smppd::auth;
using namespace std::chrono_literals;
using smppd::test::ip;
using Clock = AuthFailureThrottle::Clock;
using Verdict = AuthFailureThrottle::Verdict;

namespace {

const Clock::time_point t0{std::chrono::hours(1)};

// How a bind ends once its credentials are checked.
enum class Outcome { right_password, wrong_password, unknown_system_id, ip_not_allowed };

// One bind, as the listener makes it: the attempt, then (when it may proceed) its outcome.
AuthFailureThrottle::Attempt try_bind(AuthFailureThrottle& throttle, std::string_view peer,
                                      std::string_view system_id, Outcome outcome,
                                      Clock::time_point now, bool pinned = false) {
  const bool known = outcome != Outcome::unknown_system_id;
  auto attempt = throttle.begin_attempt(ip(peer), system_id, known, pinned, now);
  if (!attempt.proceed()) return attempt;
  if (outcome == Outcome::right_password) {
    throttle.record_success(ip(peer), system_id, attempt, now);
  } else {
    throttle.record_failure(ip(peer), system_id, attempt, outcome == Outcome::wrong_password, now);
  }
  return attempt;
}

Verdict fail(AuthFailureThrottle& throttle, std::string_view peer, Clock::time_point now,
             std::string_view system_id = "alice") {
  return try_bind(throttle, peer, system_id, Outcome::wrong_password, now).verdict;
}

}  // namespace

// ---- the reply delay ----

TEST(AuthFailureThrottle, ReplyDelayEscalatesAndCaps) {
  AuthFailureThrottle throttle({.peer_limit = 100, .client_limit = 100});
  const std::vector<std::chrono::milliseconds> expected = {0ms,    250ms,  500ms,  1000ms, 2000ms,
                                                           4000ms, 5000ms, 5000ms, 5000ms};
  for (size_t i = 0; i < expected.size(); ++i) {
    auto a = try_bind(throttle, "192.0.2.1", "alice", Outcome::wrong_password,
                      t0 + std::chrono::seconds(i));
    EXPECT_EQ(a.reply_delay, expected[i]) << "failure " << i + 1;
  }
  EXPECT_EQ(throttle.failures(ip("192.0.2.1"), t0 + 9s), expected.size());
}

// ---- the peer's lock ----

TEST(AuthFailureThrottle, PeerIsLockedAfterTenFailuresEvenForTheRightPassword) {
  AuthFailureThrottle throttle;
  for (int i = 0; i < 10; ++i) ASSERT_EQ(fail(throttle, "192.0.2.1", t0), Verdict::proceed) << i;
  EXPECT_TRUE(throttle.peer_locked(ip("192.0.2.1"), t0));
  // Refused before the password is looked at: a right guess is not confirmed.
  EXPECT_EQ(try_bind(throttle, "192.0.2.1", "alice", Outcome::right_password, t0 + 1s).verdict,
            Verdict::peer_locked);
  EXPECT_EQ(try_bind(throttle, "192.0.2.1", "bob", Outcome::right_password, t0 + 59s).verdict,
            Verdict::peer_locked);
  // Other peers are not affected.
  EXPECT_EQ(fail(throttle, "192.0.2.2", t0), Verdict::proceed);
}

TEST(AuthFailureThrottle, EachLockAfterTheFirstTakesOneFailureAndLastsTwiceAsLong) {
  AuthFailureThrottle throttle;
  for (int i = 0; i < 10; ++i) fail(throttle, "192.0.2.1", t0);
  auto t = t0 + 1min;  // the first lock (1 min) is over
  const std::vector<std::chrono::minutes> locks = {2min, 4min, 8min, 16min, 32min, 60min, 60min};
  for (auto length : locks) {
    ASSERT_FALSE(throttle.peer_locked(ip("192.0.2.1"), t));
    EXPECT_EQ(fail(throttle, "192.0.2.1", t), Verdict::proceed);
    EXPECT_EQ(fail(throttle, "192.0.2.1", t + length - 1ms), Verdict::peer_locked)
        << length.count();
    t += length;
  }
  EXPECT_FALSE(throttle.peer_locked(ip("192.0.2.1"), t));
}

TEST(AuthFailureThrottle, AttemptsInFlightCountAgainstTheLimit) {
  // 1,000 binds at once, none answered yet: only the limit gets to the password.
  AuthFailureThrottle throttle;
  std::vector<AuthFailureThrottle::Attempt> begun;
  int proceeding = 0;
  for (int i = 0; i < 1000; ++i) {
    begun.push_back(throttle.begin_attempt(ip("192.0.2.1"), "alice", true, false, t0));
    if (begun.back().proceed()) ++proceeding;
  }
  EXPECT_EQ(proceeding, 10);
  for (const auto& a : begun) {
    throttle.record_failure(ip("192.0.2.1"), "alice", a, true, t0 + 10ms);
  }
  EXPECT_TRUE(throttle.peer_locked(ip("192.0.2.1"), t0 + 10ms));
}

TEST(AuthFailureThrottle, ConcurrentBindsGetExactlyTheLimitOfGuesses) {
  AuthFailureThrottle throttle;
  std::atomic<int> proceeded{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        if (fail(throttle, "192.0.2.1", t0) == Verdict::proceed) ++proceeded;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(proceeded.load(), 10);
  EXPECT_TRUE(throttle.peer_locked(ip("192.0.2.1"), t0));
}

TEST(AuthFailureThrottle, SuccessGivesBackOnlyItsOwnSystemIdsFailures) {
  AuthFailureThrottle throttle;
  for (int i = 0; i < 6; ++i) fail(throttle, "192.0.2.1", t0, "bob");
  for (int i = 0; i < 3; ++i) fail(throttle, "192.0.2.1", t0, "alice");
  EXPECT_EQ(throttle.failures(ip("192.0.2.1"), t0), 9u);
  // alice binds: her 3 failures are given back, bob's 6 stay.
  EXPECT_EQ(try_bind(throttle, "192.0.2.1", "alice", Outcome::right_password, t0).verdict,
            Verdict::proceed);
  EXPECT_EQ(throttle.failures(ip("192.0.2.1"), t0), 6u);
  // So a guesser who holds one account cannot reset the count for another by binding with it.
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(fail(throttle, "192.0.2.1", t0, "bob"), Verdict::proceed);
    try_bind(throttle, "192.0.2.1", "alice", Outcome::right_password, t0);
  }
  EXPECT_TRUE(throttle.peer_locked(ip("192.0.2.1"), t0));
}

TEST(AuthFailureThrottle, UnknownSystemIdsCountForThePeerAndCostNoSystemIdState) {
  AuthFailureThrottle throttle;
  for (int i = 0; i < 10; ++i) {
    try_bind(throttle, "192.0.2.1", "guess" + std::to_string(i), Outcome::unknown_system_id, t0);
  }
  EXPECT_TRUE(throttle.peer_locked(ip("192.0.2.1"), t0));
  EXPECT_EQ(throttle.tracked_clients(), 0u);
  // A success for a real client does not give back failures for names it does not hold.
  throttle.record_success(ip("192.0.2.1"), "alice", {}, t0);
  EXPECT_TRUE(throttle.peer_locked(ip("192.0.2.1"), t0));
}

TEST(AuthFailureThrottle, Ipv6CountsPerSlash64AndMappedIsIpv4) {
  AuthFailureThrottle throttle;
  for (int i = 0; i < 10; ++i) fail(throttle, "2001:db8:0:1::" + std::to_string(i + 1), t0);
  EXPECT_TRUE(throttle.peer_locked(ip("2001:db8:0:1::ffff"), t0));  // same /64
  EXPECT_FALSE(throttle.peer_locked(ip("2001:db8:0:2::1"), t0));    // another /64
  for (int i = 0; i < 10; ++i) fail(throttle, i % 2 ? "192.0.2.1" : "::ffff:192.0.2.1", t0);
  EXPECT_TRUE(throttle.peer_locked(ip("192.0.2.1"), t0));
}

TEST(AuthFailureThrottle, ForgetsFailuresAfterFifteenMinutesAndLocksAfterADay) {
  AuthFailureThrottle throttle;
  for (int i = 0; i < 9; ++i) fail(throttle, "192.0.2.1", t0);
  EXPECT_EQ(throttle.failures(ip("192.0.2.1"), t0 + 14min), 9u);
  EXPECT_EQ(throttle.failures(ip("192.0.2.1"), t0 + 15min), 0u);
  // Forgotten: ten more failures before a lock.
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(fail(throttle, "192.0.2.1", t0 + 15min), Verdict::proceed);
  }
  EXPECT_TRUE(throttle.peer_locked(ip("192.0.2.1"), t0 + 16min - 1ms));
  EXPECT_FALSE(throttle.peer_locked(ip("192.0.2.1"), t0 + 16min));
  // A patient guesser, waiting a quarter of an hour after each lock, still gets one try a lock.
  auto t = t0 + 16min;
  for (auto length : {2min, 4min, 8min}) {
    t += 15min;
    EXPECT_EQ(throttle.failures(ip("192.0.2.1"), t), 0u);
    EXPECT_EQ(fail(throttle, "192.0.2.1", t), Verdict::proceed);
    EXPECT_EQ(fail(throttle, "192.0.2.1", t), Verdict::peer_locked);
    t += length;
  }
  // A day without a lock forgets them: ten tries again, and a first lock of a minute.
  t += 24h;
  for (int i = 0; i < 10; ++i) EXPECT_EQ(fail(throttle, "192.0.2.1", t), Verdict::proceed);
  EXPECT_FALSE(throttle.peer_locked(ip("192.0.2.1"), t + 1min));
}

// ---- the system_id's lock ----

TEST(AuthFailureThrottle, SystemIdIsLockedForUntrustedPeersOnly) {
  AuthFailureThrottle throttle;
  // alice has bound from 192.0.2.1 before.
  ASSERT_EQ(try_bind(throttle, "192.0.2.1", "alice", Outcome::right_password, t0).verdict,
            Verdict::proceed);
  EXPECT_TRUE(throttle.trusted(ip("192.0.2.1"), "alice", t0));
  // Twenty addresses guess her password once each.
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(fail(throttle, "198.51.100." + std::to_string(i), t0 + 1s), Verdict::proceed);
  }
  EXPECT_TRUE(throttle.client_locked("alice", t0 + 1s));
  // A 21st is refused without a password check, answered like a failure and counted for it.
  auto a = try_bind(throttle, "203.0.113.1", "alice", Outcome::right_password, t0 + 2s);
  EXPECT_EQ(a.verdict, Verdict::client_locked);
  EXPECT_EQ(throttle.failures(ip("203.0.113.1"), t0 + 2s), 1u);
  auto again = try_bind(throttle, "203.0.113.1", "alice", Outcome::wrong_password, t0 + 2s);
  EXPECT_EQ(again.verdict, Verdict::client_locked);
  EXPECT_EQ(again.reply_delay, 250ms);
  // alice herself, from where she binds, is not locked out; nor is an address her allowed_ips
  // holds; nor is another client.
  EXPECT_EQ(try_bind(throttle, "192.0.2.1", "alice", Outcome::right_password, t0 + 3s).verdict,
            Verdict::proceed);
  EXPECT_EQ(try_bind(throttle, "10.0.0.1", "alice", Outcome::right_password, t0 + 3s, true).verdict,
            Verdict::proceed);
  EXPECT_EQ(try_bind(throttle, "203.0.113.9", "bob", Outcome::right_password, t0 + 3s).verdict,
            Verdict::proceed);
  // The lock ends after a minute.
  EXPECT_EQ(
      try_bind(throttle, "203.0.113.2", "alice", Outcome::right_password, t0 + 1s + 1min).verdict,
      Verdict::proceed);
}

TEST(AuthFailureThrottle, TrustedPeersFailuresDoNotCountForTheSystemId) {
  AuthFailureThrottle throttle;
  try_bind(throttle, "192.0.2.1", "alice", Outcome::right_password, t0);
  for (int round = 0; round < 5; ++round) {  // typos from her own address, each time fixed
    for (int i = 0; i < 9; ++i) fail(throttle, "192.0.2.1", t0 + std::chrono::minutes(round));
    try_bind(throttle, "192.0.2.1", "alice", Outcome::right_password,
             t0 + std::chrono::minutes(round));
  }
  EXPECT_FALSE(throttle.client_locked("alice", t0 + 5min));
  EXPECT_FALSE(throttle.peer_locked(ip("192.0.2.1"), t0 + 5min));
}

TEST(AuthFailureThrottle, OnlyWrongPasswordsCountForTheSystemId) {
  AuthFailureThrottle throttle;
  // Peers outside alice's allowed_ips never get her password compared: no guess at it.
  for (int i = 0; i < 30; ++i) {
    try_bind(throttle, "198.51.100." + std::to_string(i), "alice", Outcome::ip_not_allowed, t0);
  }
  EXPECT_FALSE(throttle.client_locked("alice", t0));
  EXPECT_EQ(throttle.failures(ip("198.51.100.1"), t0), 1u);
}

TEST(AuthFailureThrottle, TheOwnersSuccessGivesBackItsFailuresForTheSystemId) {
  AuthFailureThrottle throttle;
  // alice, from a new address, mistypes 5 times then binds: the system_id keeps no trace.
  for (int i = 0; i < 5; ++i) fail(throttle, "192.0.2.7", t0);
  try_bind(throttle, "192.0.2.7", "alice", Outcome::right_password, t0);
  for (int i = 0; i < 19; ++i) fail(throttle, "198.51.100." + std::to_string(i), t0);
  EXPECT_FALSE(throttle.client_locked("alice", t0));
  fail(throttle, "198.51.100.200", t0);
  EXPECT_TRUE(throttle.client_locked("alice", t0));
}

// ---- memory ----

TEST(AuthFailureThrottle, TablesAreBoundedAndEvictTheOldest) {
  AuthFailureThrottle throttle({.max_peers = 3, .max_clients = 2, .max_trusted = 2});
  fail(throttle, "192.0.2.1", t0);
  fail(throttle, "192.0.2.2", t0 + 1s);
  fail(throttle, "192.0.2.3", t0 + 2s);
  fail(throttle, "192.0.2.1", t0 + 3s);  // now the most recent
  fail(throttle, "192.0.2.4", t0 + 4s);  // evicts .2
  EXPECT_EQ(throttle.tracked_peers(), 3u);
  EXPECT_EQ(throttle.failures(ip("192.0.2.2"), t0 + 4s), 0u);
  EXPECT_EQ(throttle.failures(ip("192.0.2.1"), t0 + 4s), 2u);
  for (const char* id : {"a", "b", "c"}) fail(throttle, "198.51.100.1", t0 + 5s, id);
  EXPECT_EQ(throttle.tracked_clients(), 2u);
  for (const char* id : {"a", "b", "c"}) {
    try_bind(throttle, "198.51.100.2", id, Outcome::right_password, t0 + 6s);
  }
  EXPECT_FALSE(throttle.trusted(ip("198.51.100.2"), "a", t0 + 6s));
  EXPECT_TRUE(throttle.trusted(ip("198.51.100.2"), "c", t0 + 6s));
}

TEST(AuthFailureThrottle, DefaultPeerBoundIsTenThousand) {
  AuthFailureThrottle throttle;
  for (int i = 0; i < 10050; ++i) {
    std::string peer = "10." + std::to_string(i / 65536) + "." + std::to_string((i / 256) % 256) +
                       "." + std::to_string(i % 256);
    fail(throttle, peer, t0);
  }
  EXPECT_EQ(throttle.tracked_peers(), 10000u);
  EXPECT_EQ(throttle.failures(ip("10.0.0.0"), t0), 0u);    // among the oldest, evicted
  EXPECT_EQ(throttle.failures(ip("10.0.39.65"), t0), 1u);  // the last one (10049)
}

TEST(AuthFailureThrottle, FailuresAreToldApartForAFewSystemIdsPerPeer) {
  AuthFailureThrottle throttle({.max_ids_per_peer = 2});
  fail(throttle, "192.0.2.1", t0, "a");
  fail(throttle, "192.0.2.1", t0, "b");
  fail(throttle, "192.0.2.1", t0, "c");  // not told apart: only a success as a or b gives back
  fail(throttle, "192.0.2.1", t0, "c");
  try_bind(throttle, "192.0.2.1", "c", Outcome::right_password, t0);  // gives back its own attempt
  EXPECT_EQ(throttle.failures(ip("192.0.2.1"), t0), 4u);
  try_bind(throttle, "192.0.2.1", "a", Outcome::right_password, t0);
  EXPECT_EQ(throttle.failures(ip("192.0.2.1"), t0), 3u);
}

TEST(AuthFailureThrottle, ASuccessForgetsAPeerWithNothingElseAgainstIt) {
  AuthFailureThrottle throttle;
  for (int i = 0; i < 3; ++i) fail(throttle, "192.0.2.1", t0);
  try_bind(throttle, "192.0.2.1", "alice", Outcome::right_password, t0);
  EXPECT_EQ(throttle.tracked_peers(), 0u);
  EXPECT_EQ(throttle.failures(ip("192.0.2.1"), t0), 0u);
  // alice's own typos locked her address; once she binds, the locks are forgotten too.
  for (int i = 0; i < 10; ++i) fail(throttle, "192.0.2.1", t0);
  try_bind(throttle, "192.0.2.1", "alice", Outcome::right_password, t0 + 1min);
  EXPECT_EQ(throttle.tracked_peers(), 0u);
}

TEST(AuthFailureThrottle, AnotherAccountsSuccessDoesNotForgetTheLocks) {
  // A guesser holding the account bob waits until the failures for alice are forgotten, then
  // binds as bob: alice's guesser keeps its escalation (one try, then 2 min).
  AuthFailureThrottle throttle;
  for (int i = 0; i < 10; ++i) fail(throttle, "192.0.2.1", t0, "alice");
  const auto later = t0 + 1min + 15min;
  EXPECT_EQ(throttle.failures(ip("192.0.2.1"), later), 0u);
  EXPECT_EQ(try_bind(throttle, "192.0.2.1", "bob", Outcome::right_password, later).verdict,
            Verdict::proceed);
  EXPECT_EQ(fail(throttle, "192.0.2.1", later, "alice"), Verdict::proceed);
  EXPECT_EQ(fail(throttle, "192.0.2.1", later + 2min - 1ms, "alice"), Verdict::peer_locked);
}

namespace smppd::auth {
namespace {

// An attempt nobody could judge (the external backends failed) is given back whole: forgetting
// many of them and then binding right does not give back strikes earned against other names.
TEST(AuthFailureThrottle, AForgottenAttemptIsTheExactInverseOfItsBeginning) {
  AuthFailureThrottle throttle;
  for (int i = 0; i < 50; ++i) {
    auto a = throttle.begin_attempt(ip("192.0.2.1"), "att", true, false, t0);
    ASSERT_EQ(a.verdict, Verdict::proceed) << i;
    throttle.forget_attempt(ip("192.0.2.1"), "att", a);
  }
  EXPECT_EQ(throttle.failures(ip("192.0.2.1"), t0), 0u);
  // Nine wrong guesses at another name, one right bind as "att", one more guess: the peer's
  // count is ten, and it is locked (the success gave back only its own attempt).
  for (int i = 0; i < 9; ++i) ASSERT_EQ(fail(throttle, "192.0.2.1", t0, "victim"), Verdict::proceed);
  EXPECT_EQ(try_bind(throttle, "192.0.2.1", "att", Outcome::right_password, t0).verdict,
            Verdict::proceed);
  EXPECT_EQ(fail(throttle, "192.0.2.1", t0, "victim"), Verdict::proceed);
  EXPECT_TRUE(throttle.peer_locked(ip("192.0.2.1"), t0));
}

}  // namespace
}  // namespace smppd::auth
