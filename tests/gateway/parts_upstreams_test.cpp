// The upstream each long message's parts go to: found while its parts come, forgotten after.
#include "gateway/parts_upstreams.hpp"

#include <gtest/gtest.h>

using namespace smppd::gateway;
using namespace std::chrono;

namespace {

const PartsUpstreams::Clock::time_point t0{};

TEST(PartsUpstreams, LaterPartsFindTheFirstOnesUpstreamUntilTheyStopComing) {
  PartsUpstreams parts(minutes(5));
  EXPECT_FALSE(parts.find(42, t0));
  parts.remember(42, 3, t0);
  EXPECT_EQ(parts.find(42, t0 + minutes(4)), 3u);
  // Each part keeps it another ttl.
  EXPECT_EQ(parts.find(42, t0 + minutes(8)), 3u);
  EXPECT_FALSE(parts.find(43, t0 + minutes(8)));
  EXPECT_FALSE(parts.find(42, t0 + minutes(14)));  // 6 minutes after the last part
  EXPECT_EQ(parts.size(), 0u);
}

TEST(PartsUpstreams, BoundedExpiredFirstThenTheOldestHalf) {
  PartsUpstreams parts(minutes(5), 10);
  for (uint64_t k = 1; k <= 10; ++k) parts.remember(k, 1, t0 + seconds(k));
  // Full of live entries: the half that expires first goes.
  parts.remember(11, 2, t0 + seconds(11));
  EXPECT_LE(parts.size(), 6u);
  EXPECT_FALSE(parts.find(1, t0 + seconds(12)));
  EXPECT_EQ(parts.find(10, t0 + seconds(12)), 1u);
  EXPECT_EQ(parts.find(11, t0 + seconds(12)), 2u);
  // Expired entries go before any live one.
  for (uint64_t k = 20; parts.size() < 10; ++k) parts.remember(k, 1, t0 + seconds(12));
  parts.remember(99, 5, t0 + minutes(6));  // all the others have expired by then
  EXPECT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts.find(99, t0 + minutes(6)), 5u);
}

}  // namespace
