#include "gateway/message_ids.hpp"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "gateway/message_map.hpp"

namespace smppd::gateway {
namespace {

TEST(MessageIds, ThreeThreeClientsGetAtMostEightCharacters) {
  MessageIdSource ids;
  const uint64_t id = ids.next();
  const std::string text = render_message_id(id, smpp::Version::v33);
  EXPECT_EQ(text.size(), 8u);
  EXPECT_EQ(parse_message_id(text, smpp::Version::v33), id);
  const std::string hex = render_message_id(id, smpp::Version::v34);
  EXPECT_EQ(hex.size(), 12u);
  EXPECT_EQ(parse_message_id(hex, smpp::Version::v34), id);
}

TEST(MessageIds, UniqueAndAboveThoseOfAnEarlierStart) {
  MessageIdSource first;
  std::set<uint64_t> seen;
  uint64_t last = 0;
  for (int i = 0; i < 1000; ++i) {
    last = first.next();
    EXPECT_TRUE(seen.insert(last).second);
  }
  // A later start begins above what the first handed out, as long as that averaged under one
  // id per microsecond (1,000 ids above may take less than a millisecond: wait for the clock).
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  MessageIdSource restarted;
  EXPECT_GT(restarted.next(), last);
}

TEST(MessageMap, FindsByTheSmscIdInAnyOfItsForms) {
  MessageMap map(1000);
  map.add(MessageRecord{42, "alice", "carrier", "0A1B2C3D", smpp::Version::v34});
  auto hit = map.find_by_smsc_id("carrier", "169552957");  // the same id in decimal
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->id, 42u);
  EXPECT_EQ(hit->client, "alice");
  EXPECT_TRUE(map.find_by_smsc_id("carrier", "a1b2c3d"));
  EXPECT_FALSE(map.find_by_smsc_id("other", "0A1B2C3D"));  // ids are per upstream
  ASSERT_TRUE(map.find_by_id(42));
  EXPECT_EQ(map.find_by_id(42)->smsc_id, "0A1B2C3D");
}

TEST(MessageMap, ForgetsTheOldestBeyondItsBound) {
  MessageMap map(16);  // one entry per shard
  for (uint64_t i = 0; i < 1000; ++i) {
    map.add(MessageRecord{i, "c", "u", std::to_string(i), smpp::Version::v34});
  }
  EXPECT_LE(map.size(), 16u);
  EXPECT_TRUE(map.find_by_smsc_id("u", "999"));
}

}  // namespace
}  // namespace smppd::gateway
