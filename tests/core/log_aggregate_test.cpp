// Lines a peer can trigger at will are aggregated: one per interval, with the count of the rest.
#include "core/log_aggregate.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace smppd::log {
namespace {

using namespace std::chrono_literals;

class LogAggregate : public ::testing::Test {
 protected:
  void SetUp() override {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    sink->set_pattern("%v");
    previous_ = spdlog::default_logger();
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("aggregate-test", sink));
  }
  void TearDown() override { spdlog::set_default_logger(previous_); }
  std::vector<std::string> lines() const {
    std::vector<std::string> v;
    std::istringstream in(out_.str());
    for (std::string l; std::getline(in, l);) v.push_back(l);
    return v;
  }
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

TEST_F(LogAggregate, AFloodIsOneLineAndACount) {
  Aggregated unmatched(Level::warn, "receipts matching no message", 1h);
  for (int i = 0; i < 100000; ++i) unmatched("receipt for id '{}' matches no message", i);
  auto v = lines();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0], "receipt for id '0' matches no message");
  EXPECT_EQ(unmatched.suppressed(), 99999u);
  EXPECT_EQ(unmatched.total(), 100000u);
  // Within the interval, flushing says nothing yet.
  Aggregated::flush_all();
  EXPECT_EQ(lines().size(), 1u);
  // Once the interval is over, the count is said.
  Aggregated::flush_all(Aggregated::Clock::now() + 2h);
  v = lines();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[1], "99999 more receipts matching no message not logged one by one");
  EXPECT_EQ(unmatched.suppressed(), 0u);
}

TEST_F(LogAggregate, TheNextLineAfterTheIntervalCarriesTheCount) {
  Aggregated a(Level::info, "refused connections", 50ms);
  a("refused {}", 1);
  a("refused {}", 2);
  a("refused {}", 3);
  std::this_thread::sleep_for(60ms);
  a("refused {}", 4);
  const auto v = lines();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0], "refused 1");
  EXPECT_EQ(v[1], "refused 4 (and 2 more refused connections in the last 1 s)");
}

TEST_F(LogAggregate, ManyThreadsCountEveryLineOnce) {
  Aggregated a(Level::warn, "lines", 1h);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&a] {
      for (int i = 0; i < 10000; ++i) a("line {}", i);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(lines().size(), 1u);
  EXPECT_EQ(a.total(), 40000u);
  EXPECT_EQ(a.suppressed(), 39999u);
}

TEST_F(LogAggregate, AnAggregateGoneSaysItsCount) {
  {
    Aggregated a(Level::warn, "late responses", 1h);
    a("first");
    a("second");
  }
  const auto v = lines();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[1], "1 more late responses not logged one by one");
}

}  // namespace
}  // namespace smppd::log

namespace smppd::log {
namespace {

TEST_F(LogAggregate, KeysHaveTheirOwnTurnsAndAreBounded) {
  AggregatedByKey refused(Level::info, "refused connections", std::chrono::hours(1), 2);
  refused("blocked_ips", "refused {}: blocked_ips", 1);
  refused("blocked_ips", "refused {}: blocked_ips", 2);
  refused("max_connections", "refused {}: max_connections", 3);  // another key: logged
  refused("connection_rate", "refused {}: connection_rate", 4);  // past the bound: shared
  refused("bind_rate", "refused {}: bind_rate", 5);              // shared, suppressed
  const auto v = lines();
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0], "refused 1: blocked_ips");
  EXPECT_EQ(v[1], "refused 3: max_connections");
  EXPECT_EQ(v[2], "refused 4: connection_rate");
  Aggregated::flush_all(Aggregated::Clock::now() + std::chrono::hours(2));
  const auto after = lines();
  ASSERT_EQ(after.size(), 5u);
  EXPECT_NE(std::find(after.begin(), after.end(),
                      "1 more refused connections (blocked_ips) not logged one by one"),
            after.end());
  EXPECT_NE(
      std::find(after.begin(), after.end(), "1 more refused connections not logged one by one"),
      after.end());
}

}  // namespace
}  // namespace smppd::log
