#include "upstream/health.hpp"

#include <gtest/gtest.h>

namespace smppd::upstream {
namespace {

using Change = HostHealth::Change;

config::HealthConfig thresholds(uint32_t failures, uint32_t successes) {
  config::HealthConfig c;
  c.threshold = failures;
  c.recovery_threshold = successes;
  return c;
}

TEST(HostHealth, StartsHealthyAndTurnsUnhealthyAfterThresholdConsecutiveFailures) {
  const auto c = thresholds(3, 2);
  HostHealth h;
  EXPECT_TRUE(h.healthy());
  EXPECT_EQ(h.record(false, c), Change::none);
  EXPECT_EQ(h.record(false, c), Change::none);
  EXPECT_EQ(h.record(true, c), Change::none);  // not consecutive: counting starts again
  EXPECT_EQ(h.record(false, c), Change::none);
  EXPECT_EQ(h.record(false, c), Change::none);
  EXPECT_TRUE(h.healthy());
  EXPECT_EQ(h.record(false, c), Change::became_unhealthy);
  EXPECT_FALSE(h.healthy());
  EXPECT_EQ(h.record(false, c), Change::none);  // already unhealthy: said once
}

TEST(HostHealth, RecoversAfterRecoveryThresholdConsecutiveSuccesses) {
  const auto c = thresholds(1, 3);
  HostHealth h;
  EXPECT_EQ(h.record(false, c), Change::became_unhealthy);
  EXPECT_EQ(h.record(true, c), Change::none);
  EXPECT_EQ(h.record(true, c), Change::none);
  EXPECT_EQ(h.record(false, c), Change::none);  // a failure in between: from zero again
  EXPECT_EQ(h.record(true, c), Change::none);
  EXPECT_EQ(h.record(true, c), Change::none);
  EXPECT_FALSE(h.healthy());
  EXPECT_EQ(h.record(true, c), Change::became_healthy);
  EXPECT_TRUE(h.healthy());
  EXPECT_EQ(h.record(true, c), Change::none);
}

TEST(HostHealth, SubmitProbeAsksForNoReceipt) {
  const smpp::Pdu p = submit_probe();
  ASSERT_EQ(p.command_id(), smpp::CommandId::submit_sm);
  const auto& s = std::get<smpp::SubmitSm>(p.body);
  EXPECT_EQ(s.registered_delivery, 0);
  EXPECT_EQ(s.destination_addr.view(), "0");
}

}  // namespace
}  // namespace smppd::upstream
