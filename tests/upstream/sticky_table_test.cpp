// The parts of a long message find the connection of the first; the table never grows.
#include "upstream/sticky_table.hpp"

#include <gtest/gtest.h>

namespace smppd::upstream {
namespace {

using namespace std::chrono_literals;
using Clock = StickyTable::Clock;

TEST(StickyTable, RemembersUntilExpiry) {
  StickyTable t;
  const auto now = Clock::now();
  EXPECT_FALSE(t.find(42, now));
  t.remember(42, 3, now + 2min, now);
  EXPECT_EQ(t.find(42, now + 1min), 3u);
  EXPECT_FALSE(t.find(42, now + 3min));
  t.remember(42, 5, now + 2min, now);  // the same key moves
  EXPECT_EQ(t.find(42, now), 5u);
}

TEST(StickyTable, CollidingKeysShareABucketUpToItsWays) {
  StickyTable t;
  const auto now = Clock::now();
  // Keys equal modulo the table size land in the same bucket.
  const uint64_t base = 7;
  for (uint64_t i = 1; i <= StickyTable::kWays; ++i) {
    t.remember(base + i * StickyTable::kEntries, i, now + std::chrono::seconds(i), now);
  }
  for (uint64_t i = 1; i <= StickyTable::kWays; ++i) {
    EXPECT_EQ(t.find(base + i * StickyTable::kEntries, now), i) << i;
  }
  // One more evicts the entry that expires first (i = 1), and only it.
  const uint64_t extra = base + (StickyTable::kWays + 1) * StickyTable::kEntries;
  t.remember(extra, 99, now + 1h, now);
  EXPECT_EQ(t.find(extra, now), 99u);
  EXPECT_FALSE(t.find(base + StickyTable::kEntries, now));
  for (uint64_t i = 2; i <= StickyTable::kWays; ++i) {
    EXPECT_EQ(t.find(base + i * StickyTable::kEntries, now), i) << i;
  }
}

TEST(StickyTable, ExpiredEntriesAreTakenFirst) {
  StickyTable t;
  const auto now = Clock::now();
  for (uint64_t i = 1; i <= StickyTable::kWays; ++i) {
    // Way 2 expires at once; the others live long.
    const auto until = i == 2 ? now + 1ms : now + 1h;
    t.remember(i * StickyTable::kEntries, i, until, now);
  }
  const auto later = now + 1s;
  t.remember(9 * StickyTable::kEntries, 9, later + 1h, later);
  EXPECT_EQ(t.find(9 * StickyTable::kEntries, later), 9u);
  EXPECT_EQ(t.find(1 * StickyTable::kEntries, later), 1u);
  EXPECT_EQ(t.find(3 * StickyTable::kEntries, later), 3u);
  EXPECT_EQ(t.find(4 * StickyTable::kEntries, later), 4u);
}

}  // namespace
}  // namespace smppd::upstream
