#include "sim/message_table.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace smppd::sim {
namespace {

using smpp::MessageState;
using namespace std::chrono_literals;

Message message(uint32_t id, Clock::time_point due, std::string owner = "esme") {
  Message m;
  m.id = id;
  m.owner = std::move(owner);
  m.due = due;
  return m;
}

TEST(MessageTable, SettlesInSubmitOrderWhenDue) {
  MessageTable t(100, 100);
  const auto t0 = Clock::now();
  ASSERT_TRUE(t.add(message(1, t0 + 10ms)));
  ASSERT_TRUE(t.add(message(2, t0 + 20ms)));
  ASSERT_TRUE(t.add(message(3, t0 + 30ms)));
  EXPECT_EQ(t.next_due(), t0 + 10ms);
  std::vector<uint32_t> settled;
  auto settle = [&](Message& m) {
    settled.push_back(m.id);
    m.state = MessageState::delivered;
  };
  EXPECT_EQ(t.settle_due(t0 + 5ms, settle), 0u);
  EXPECT_EQ(t.settle_due(t0 + 20ms, settle), 2u);
  EXPECT_EQ(settled, (std::vector<uint32_t>{1, 2}));
  EXPECT_EQ(t.pending(), 1u);
  EXPECT_EQ(t.finished(), 2u);
  EXPECT_EQ(t.next_due(), t0 + 30ms);
  EXPECT_EQ(t.find(1, "esme")->state, MessageState::delivered);
  EXPECT_TRUE(t.find(3, "esme")->pending());
}

TEST(MessageTable, SettleHonoursTheBatchLimit) {
  MessageTable t(100, 100);
  const auto t0 = Clock::now();
  for (uint32_t i = 0; i < 10; ++i) t.add(message(i, t0));
  int n = 0;
  auto settle = [&](Message& m) {
    ++n;
    m.state = MessageState::delivered;
  };
  EXPECT_EQ(t.settle_due(t0, settle, 4), 4u);
  EXPECT_EQ(t.settle_due(t0, settle, 4), 4u);
  EXPECT_EQ(t.settle_due(t0, settle, 4), 2u);
  EXPECT_EQ(n, 10);
  EXPECT_FALSE(t.next_due());
}

TEST(MessageTable, DueTimesNeverGoBackwards) {
  MessageTable t(100, 100);
  const auto t0 = Clock::now();
  t.add(message(1, t0 + 50ms));
  t.add(message(2, t0 + 10ms));  // taken as t0 + 50ms: the FIFO stays in order
  EXPECT_EQ(t.find(2, "esme")->due, t0 + 50ms);
}

TEST(MessageTable, IdsAreUniqueWhileKept) {
  MessageTable t(100, 100);
  EXPECT_TRUE(t.add(message(7, Clock::now())));
  EXPECT_FALSE(t.add(message(7, Clock::now())));
  EXPECT_TRUE(t.contains(7));
}

TEST(MessageTable, OnlyTheOwnerFindsAMessage) {
  MessageTable t(100, 100);
  t.add(message(1, Clock::now(), "alice"));
  EXPECT_NE(t.find(1, "alice"), nullptr);
  EXPECT_EQ(t.find(1, "bob"), nullptr);
  EXPECT_EQ(t.find(2, "alice"), nullptr);
}

TEST(MessageTable, CancelledMessagesAreNotSettled) {
  MessageTable t(100, 100);
  const auto t0 = Clock::now();
  t.add(message(1, t0));
  t.add(message(2, t0));
  EXPECT_FALSE(t.cancel(1, "someone else", 0));
  EXPECT_TRUE(t.cancel(1, "esme", 1234));
  EXPECT_FALSE(t.cancel(1, "esme", 1234));  // no longer pending
  std::vector<uint32_t> settled;
  t.settle_due(t0, [&](Message& m) {
    settled.push_back(m.id);
    m.state = MessageState::delivered;
  });
  EXPECT_EQ(settled, (std::vector<uint32_t>{2}));
  EXPECT_EQ(t.find(1, "esme")->state, MessageState::deleted);
  EXPECT_EQ(t.find(1, "esme")->done_unix, 1234);
  EXPECT_FALSE(t.cancel(2, "esme", 0));  // final
}

TEST(MessageTable, FullAtMaxPending) {
  MessageTable t(2, 100);
  const auto t0 = Clock::now();
  t.add(message(1, t0));
  EXPECT_FALSE(t.full());
  t.add(message(2, t0));
  EXPECT_TRUE(t.full());
  t.settle_due(
      t0, [](Message& m) { m.state = MessageState::expired; }, 1);
  EXPECT_FALSE(t.full());
}

TEST(MessageTable, ForgetsTheOldestFinished) {
  MessageTable t(100, 2);
  const auto t0 = Clock::now();
  for (uint32_t i = 1; i <= 3; ++i) t.add(message(i, t0));
  t.settle_due(t0, [](Message& m) { m.state = MessageState::delivered; });
  EXPECT_EQ(t.finished(), 2u);
  EXPECT_EQ(t.find(1, "esme"), nullptr);
  EXPECT_NE(t.find(2, "esme"), nullptr);
  EXPECT_NE(t.find(3, "esme"), nullptr);
  EXPECT_TRUE(t.add(message(1, t0)));  // its id is free again
}

TEST(TextExcerpt, FirstTwentyCharacters) {
  const std::string text = "Hello world, this is a longer message";
  const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  EXPECT_EQ(text_excerpt(bytes, 0x01, false), "Hello world, this is");
  EXPECT_EQ(text_excerpt(bytes.first(5), 0x01, false), "Hello");
}

TEST(TextExcerpt, CharactersGsmAndAsciiDisagreeOnBecomeQuestionMarks) {
  // UCS-2 "a€_b$" : the euro sign, underscore and dollar differ between GSM 03.38 and ASCII.
  const std::vector<uint8_t> ucs2 = {0x00, 'a', 0x20, 0xAC, 0x00, '_', 0x00, 'b', 0x00, '$'};
  EXPECT_EQ(text_excerpt(ucs2, 0x08, false), "a??b?");
}

TEST(TextExcerpt, SkipsTheUserDataHeader) {
  const std::vector<uint8_t> part = {0x05, 0x00, 0x03, 0x2A, 0x02, 0x01, 'H', 'i'};
  EXPECT_EQ(text_excerpt(part, 0x00, true), "Hi");
  const std::vector<uint8_t> bad_udh = {0x09, 0x00};
  EXPECT_EQ(text_excerpt(bad_udh, 0x00, true), "");
}

TEST(TextExcerpt, BinaryHasNoText) {
  const std::vector<uint8_t> data = {0x01, 0x02, 0x03};
  EXPECT_EQ(text_excerpt(data, 0x04, false), "");
}

}  // namespace
}  // namespace smppd::sim
