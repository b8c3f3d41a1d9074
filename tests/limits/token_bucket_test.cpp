#include "limits/token_bucket.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

using namespace smppd::limits;
using namespace std::chrono_literals;

namespace {

const TokenBucket::Clock::time_point t0{std::chrono::seconds(1000)};

// How many of `tries` takes succeed at `now`.
int takes(TokenBucket& bucket, TokenBucket::Clock::time_point now, int tries) {
  int n = 0;
  for (int i = 0; i < tries; ++i) n += bucket.try_take(now) ? 1 : 0;
  return n;
}

}  // namespace

TEST(TokenBucket, StartsFullWithTheBurst) {
  TokenBucket bucket(10, 5);
  EXPECT_EQ(bucket.capacity(), 5);
  EXPECT_EQ(takes(bucket, t0, 20), 5);
}

TEST(TokenBucket, RefillsAtTheRate) {
  TokenBucket bucket(10, 5);
  EXPECT_EQ(takes(bucket, t0, 5), 5);
  EXPECT_FALSE(bucket.try_take(t0 + 50ms));  // half a token
  EXPECT_TRUE(bucket.try_take(t0 + 100ms));  // one token
  EXPECT_FALSE(bucket.try_take(t0 + 100ms));
  EXPECT_EQ(takes(bucket, t0 + 400ms, 10), 3);
}

TEST(TokenBucket, RefillStopsAtTheBurst) {
  TokenBucket bucket(10, 5);
  EXPECT_EQ(takes(bucket, t0, 5), 5);
  EXPECT_EQ(takes(bucket, t0 + 1h, 100), 5);
}

TEST(TokenBucket, BurstZeroIsTheRateRoundedUp) {
  TokenBucket ten(10, 0);
  EXPECT_EQ(ten.capacity(), 10);
  EXPECT_EQ(takes(ten, t0, 100), 10);
  TokenBucket fractional(2.5, 0);
  EXPECT_EQ(fractional.capacity(), 3);
  TokenBucket slow(0.5, 0);  // at least one
  EXPECT_EQ(slow.capacity(), 1);
  EXPECT_TRUE(slow.try_take(t0));
  EXPECT_FALSE(slow.try_take(t0 + 1s));
  EXPECT_TRUE(slow.try_take(t0 + 2s));
}

TEST(TokenBucket, RateZeroIsUnlimited) {
  TokenBucket bucket(0, 0);
  EXPECT_TRUE(bucket.unlimited());
  EXPECT_EQ(takes(bucket, t0, 100000), 100000);
  EXPECT_TRUE(bucket.try_take(t0, 1e9));
  EXPECT_TRUE(TokenBucket(-1, 3).unlimited());
}

TEST(TokenBucket, SeveralTokensAtOnce) {
  TokenBucket bucket(10, 10);
  EXPECT_TRUE(bucket.try_take(t0, 7));
  EXPECT_FALSE(bucket.try_take(t0, 4));  // three left: nothing is taken
  EXPECT_TRUE(bucket.try_take(t0, 3));
  EXPECT_FALSE(bucket.try_take(t0 + 1h, 11));  // more than it can ever hold
}

TEST(TokenBucket, TimeGoingBackAddsNothing) {
  TokenBucket bucket(10, 1);
  EXPECT_TRUE(bucket.try_take(t0));
  EXPECT_FALSE(bucket.try_take(t0 - 10s));
  EXPECT_FALSE(bucket.try_take(t0 + 50ms));
  EXPECT_TRUE(bucket.try_take(t0 + 100ms));
}

TEST(TokenBucket, FromListenerRateLimit) {
  smppd::config::ListenerRateLimit limit;
  limit.connections_per_second = 2;
  limit.binds_per_second = 0;
  limit.burst = 4;
  TokenBucket connections = TokenBucket::connections(limit);
  EXPECT_EQ(connections.capacity(), 4);
  EXPECT_EQ(takes(connections, t0, 10), 4);
  EXPECT_TRUE(connections.try_take(t0 + 500ms));
  EXPECT_TRUE(TokenBucket::binds(limit).unlimited());
}

TEST(SharedTokenBucket, ThreadsTakeNoMoreThanTheBurst) {
  SharedTokenBucket bucket(1, 1000);
  std::atomic<int> taken{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) taken += bucket.try_take(t0) ? 1 : 0;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(taken.load(), 1000);
  EXPECT_FALSE(bucket.try_take(t0));
  EXPECT_TRUE(bucket.try_take(t0 + 1s));
}

TEST(SharedTokenBucket, UnlimitedSkipsTheLock) {
  SharedTokenBucket bucket(0, 0);
  EXPECT_TRUE(bucket.unlimited());
  EXPECT_TRUE(bucket.try_take(t0, 1e12));
}
