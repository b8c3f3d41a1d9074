#include "sim/message_id.hpp"

#include <gtest/gtest.h>

#include <set>

#include "smpp/version.hpp"

namespace smppd::sim {
namespace {

TEST(MessageId, EightUppercaseHexDigits) {
  EXPECT_EQ(format_message_id(0), "00000000");
  EXPECT_EQ(format_message_id(0x1A2B3C), "001A2B3C");
  EXPECT_EQ(format_message_id(0xFFFFFFFF), "FFFFFFFF");
}

TEST(MessageId, FitsEveryVersionIncludingThreeThree) {
  for (uint32_t id : {0u, 1u, 0xDEADBEEFu, 0xFFFFFFFFu}) {
    EXPECT_LE(format_message_id(id).size(), smpp::max_message_id_length(smpp::Version::v33));
  }
}

TEST(MessageId, ParsesWhatItFormats) {
  for (uint32_t id : {0u, 7u, 0x00ABCDEFu, 0xFFFFFFFFu}) {
    EXPECT_EQ(parse_message_id(format_message_id(id)), id);
  }
}

TEST(MessageId, ParsesAnyCaseAndWithoutLeadingZeros) {
  EXPECT_EQ(parse_message_id("1a2b3c"), 0x1A2B3Cu);
  EXPECT_EQ(parse_message_id("001A2b3C"), 0x1A2B3Cu);
  EXPECT_EQ(parse_message_id("0"), 0u);
}

TEST(MessageId, RejectsWhatIsNotAnId) {
  EXPECT_FALSE(parse_message_id(""));
  EXPECT_FALSE(parse_message_id("123456789"));  // nine digits
  EXPECT_FALSE(parse_message_id("12 34"));
  EXPECT_FALSE(parse_message_id("xyz"));
  EXPECT_FALSE(parse_message_id("-1"));
}

TEST(MessageIdSequence, UniqueAndWrapsAfterTheLast) {
  MessageIdSequence seq(0xFFFFFFFE);
  std::set<std::string> seen;
  for (int i = 0; i < 4; ++i) seen.insert(format_message_id(seq.next()));
  EXPECT_EQ(seen, (std::set<std::string>{"FFFFFFFE", "FFFFFFFF", "00000000", "00000001"}));
}

TEST(MessageIdSequence, ClockSeedMovesWithTime) {
  // Two calls a moment apart give the same or a later seed (modulo 2^32, it only moves on).
  const uint32_t a = MessageIdSequence::first_from_clock();
  const uint32_t b = MessageIdSequence::first_from_clock();
  EXPECT_LE(static_cast<uint32_t>(b - a), 1000u);
}

}  // namespace
}  // namespace smppd::sim
