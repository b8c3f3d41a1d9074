#include "gateway/message_ids.hpp"

#include <gtest/gtest.h>

#include <set>
#include <thread>

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

}  // namespace
}  // namespace smppd::gateway
