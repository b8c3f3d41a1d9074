// The lock-free rate limit shared by a client's sessions (GCRA), with times passed in, and
// under threads taking at once.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "limits/shared_rate.hpp"

namespace smppd::limits {
namespace {

using namespace std::chrono_literals;
using Clock = SharedRate::Clock;

int taken(SharedRate& r, Clock::time_point at, int tries) {
  int n = 0;
  for (int i = 0; i < tries; ++i) n += r.try_take(at);
  return n;
}

TEST(SharedRateTest, UnlimitedTakesEverything) {
  SharedRate r;
  EXPECT_FALSE(r.limited());
  EXPECT_EQ(taken(r, Clock::now(), 100000), 100000);
  r.set(0, 10);
  EXPECT_FALSE(r.limited());
  EXPECT_EQ(r.refused(), 0u);
}

TEST(SharedRateTest, ABurstThenTheRate) {
  SharedRate r;
  r.set(100, 20);  // 100 a second, 20 at once
  const Clock::time_point t0{1000s};
  EXPECT_EQ(taken(r, t0, 50), 20);
  EXPECT_EQ(r.refused(), 30u);
  // 10 ms later: one more (the rate's interval), not two.
  EXPECT_EQ(taken(r, t0 + 10ms, 5), 1);
  // A second later: the bucket is full again (20), not 100.
  EXPECT_EQ(taken(r, t0 + 1010ms, 200), 20);
  // Over 10 s at 1 ms steps: 100 a second, whatever is asked.
  int n = 0;
  for (int ms = 0; ms < 10000; ++ms) n += taken(r, t0 + 1010ms + std::chrono::milliseconds(ms), 3);
  EXPECT_NEAR(n, 1000, 2);
}

TEST(SharedRateTest, DefaultBurstIsOneSecondsWorth) {
  SharedRate r;
  r.set(50, 0);
  EXPECT_EQ(taken(r, Clock::time_point{5s}, 200), 50);
  SharedRate slow;
  slow.set(0.5, 0);  // one every two seconds, one at once
  EXPECT_EQ(taken(slow, Clock::time_point{5s}, 10), 1);
  EXPECT_EQ(taken(slow, Clock::time_point{6s}, 10), 0);
  EXPECT_EQ(taken(slow, Clock::time_point{7s}, 10), 1);
}

TEST(SharedRateTest, ANewRateAppliesToTheNextEvent) {
  SharedRate r;
  r.set(10, 1);
  const Clock::time_point t0{100s};
  EXPECT_EQ(taken(r, t0, 5), 1);
  r.set(0, 0);
  EXPECT_EQ(taken(r, t0, 5), 5);
  r.set(1000, 1000);
  EXPECT_EQ(taken(r, t0 + 1s, 5000), 1000);
  // A slower rate whose burst the old schedule had used up: it starts with its own burst.
  r.set(1, 5);
  EXPECT_EQ(taken(r, t0 + 1s, 10), 5);
  // The same settings again change nothing: the schedule goes on.
  r.set(1, 5);
  EXPECT_EQ(taken(r, t0 + 1s, 10), 0);
}

TEST(SharedRateTest, ThreadsTakingAtOnceShareOneBudget) {
  SharedRate r;
  r.set(1, 10000);  // 10,000 at once, then almost nothing
  const Clock::time_point t0 = Clock::now();
  std::atomic<int> total{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] { total += taken(r, t0, 5000); });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(total.load(), 10000);
  EXPECT_EQ(r.refused(), 10000u);
}

}  // namespace
}  // namespace smppd::limits
