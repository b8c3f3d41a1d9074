#include "sim/outcomes.hpp"

#include <gtest/gtest.h>

#include <map>
#include <stdexcept>
#include <vector>

#include "smpp/status.hpp"

namespace smppd::sim {
namespace {

using smpp::MessageState;
namespace st = smpp::status;

TEST(SmoothWeightedRoundRobin, EachIndexExactlyItsWeightPerCycle) {
  SmoothWeightedRoundRobin wrr{5, 1, 1};
  for (int cycle = 0; cycle < 3; ++cycle) {
    std::vector<int> counts(3);
    for (int i = 0; i < 7; ++i) ++counts[wrr.next()];
    EXPECT_EQ(counts, (std::vector<int>{5, 1, 1}));
  }
}

TEST(SmoothWeightedRoundRobin, SpreadsTheLighterPicks) {
  // nginx's example: weights 5, 1, 1 give a a b a c a a, not a a a a a b c.
  SmoothWeightedRoundRobin wrr{5, 1, 1};
  std::vector<std::size_t> order;
  for (int i = 0; i < 7; ++i) order.push_back(wrr.next());
  EXPECT_EQ(order, (std::vector<std::size_t>{0, 0, 1, 0, 2, 0, 0}));
}

TEST(SmoothWeightedRoundRobin, ZeroWeightsPickTheFirst) {
  SmoothWeightedRoundRobin all_zero{0, 0};
  EXPECT_EQ(all_zero.next(), 0u);
  SmoothWeightedRoundRobin some_zero{0, 3, 0};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(some_zero.next(), 1u);
}

std::map<MessageState, int> count_outcomes(OutcomeMix& mix, int n) {
  std::map<MessageState, int> counts;
  for (int i = 0; i < n; ++i) ++counts[mix.next()];
  return counts;
}

TEST(OutcomeMix, ExactProportionsOverOneHundred) {
  OutcomeMix mix(90, 5, 5);
  auto counts = count_outcomes(mix, 100);
  EXPECT_EQ(counts[MessageState::delivered], 90);
  EXPECT_EQ(counts[MessageState::undeliverable], 5);
  EXPECT_EQ(counts[MessageState::expired], 5);
}

TEST(OutcomeMix, ExactProportionsOverTheShortestPeriod) {
  OutcomeMix mix(90, 5, 5);  // period 20: 18, 1, 1
  for (int round = 0; round < 5; ++round) {
    auto counts = count_outcomes(mix, 20);
    EXPECT_EQ(counts[MessageState::delivered], 18);
    EXPECT_EQ(counts[MessageState::undeliverable], 1);
    EXPECT_EQ(counts[MessageState::expired], 1);
  }
}

TEST(OutcomeMix, SameSequenceEveryRun) {
  OutcomeMix a(60, 30, 10), b(60, 30, 10);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(a.next(), b.next()) << i;
}

TEST(OutcomeMix, AllZeroDeliversEverything) {
  OutcomeMix mix(0, 0, 0);
  EXPECT_EQ(count_outcomes(mix, 10)[MessageState::delivered], 10);
}

TEST(OutcomeMix, OnlyFailures) {
  OutcomeMix mix(0, 100, 0);
  EXPECT_EQ(count_outcomes(mix, 10)[MessageState::undeliverable], 10);
}

TEST(FaultInjector, NoRatesNoFailures) {
  FaultInjector inj(0, 0);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(inj.next(), st::ESME_ROK);
}

TEST(FaultInjector, EveryTenthSubmitAtTenPercent) {
  FaultInjector inj(10, 0);
  for (int i = 1; i <= 100; ++i) {
    EXPECT_EQ(inj.next(), i % 10 == 0 ? st::ESME_RTHROTTLED : st::ESME_ROK) << "submit " << i;
  }
}

TEST(FaultInjector, EveryFourthSubmitAtTwentyFivePercentError) {
  FaultInjector inj(0, 25);
  for (int i = 1; i <= 40; ++i) {
    EXPECT_EQ(inj.next(), i % 4 == 0 ? st::ESME_RSYSERR : st::ESME_ROK) << "submit " << i;
  }
}

TEST(FaultInjector, BothRatesCountExactly) {
  FaultInjector inj(10, 20);
  int throttled = 0, errors = 0;
  for (int i = 0; i < 50; ++i) {
    const uint32_t s = inj.next();
    throttled += s == st::ESME_RTHROTTLED;
    errors += s == st::ESME_RSYSERR;
  }
  EXPECT_EQ(throttled, 5);
  EXPECT_EQ(errors, 10);
}

TEST(FaultInjector, FractionalRatesHaveNoDrift) {
  FaultInjector inj(0.1, 0);  // one in a thousand
  int throttled = 0;
  for (int i = 0; i < 100'000; ++i) throttled += inj.next() == st::ESME_RTHROTTLED;
  EXPECT_EQ(throttled, 100);
}

TEST(FaultInjector, HundredPercentFailsEverySubmit) {
  FaultInjector inj(50, 50);
  int throttled = 0, errors = 0;
  for (int i = 0; i < 10; ++i) {
    const uint32_t s = inj.next();
    ASSERT_NE(s, st::ESME_ROK);
    throttled += s == st::ESME_RTHROTTLED;
    errors += s == st::ESME_RSYSERR;
  }
  EXPECT_EQ(throttled, 5);
  EXPECT_EQ(errors, 5);
}

TEST(FaultInjector, RejectsRatesOutOfRange) {
  EXPECT_THROW(FaultInjector(-1, 0), std::invalid_argument);
  EXPECT_THROW(FaultInjector(0, 101), std::invalid_argument);
  EXPECT_THROW(FaultInjector(60, 50), std::invalid_argument);
}

TEST(ReceiptRequested, RegisteredDeliveryBits) {
  const MessageState ok = MessageState::delivered, failed = MessageState::undeliverable,
                     expired = MessageState::expired;
  EXPECT_FALSE(receipt_requested(0, ok));
  EXPECT_FALSE(receipt_requested(0, failed));
  EXPECT_TRUE(receipt_requested(1, ok));
  EXPECT_TRUE(receipt_requested(1, expired));
  EXPECT_FALSE(receipt_requested(2, ok));
  EXPECT_TRUE(receipt_requested(2, failed));
  EXPECT_TRUE(receipt_requested(2, expired));
  EXPECT_TRUE(receipt_requested(3, ok));
  EXPECT_FALSE(receipt_requested(3, failed));
  // Only bits 1-0: intermediate notification (0x10) and SME acks do not change it.
  EXPECT_TRUE(receipt_requested(0x11, ok));
  EXPECT_FALSE(receipt_requested(0x10, ok));
}

TEST(ErrorCode, ZeroOnlyWhenDelivered) {
  EXPECT_EQ(error_code_for(MessageState::delivered), 0);
  EXPECT_EQ(error_code_for(MessageState::undeliverable), 1);
  EXPECT_EQ(error_code_for(MessageState::expired), 1);
}

}  // namespace
}  // namespace smppd::sim
