#include "core/counters.hpp"

#include <gtest/gtest.h>

#include <array>
#include <map>
#include <thread>
#include <vector>

namespace smppd {
namespace {

TEST(Counters, ByNameAndByIdCountTheSameSeries) {
  Counters c;
  const CounterId id = c.counter("smppd_x_total", {{"client", "a"}});
  c.add(id, 2);
  c.add("smppd_x_total", {{"client", "a"}}, 3);
  c.add("smppd_x_total", {{"client", "b"}});
  EXPECT_EQ(c.get("smppd_x_total", {{"client", "a"}}), 5u);
  EXPECT_EQ(c.get("smppd_x_total", {{"client", "b"}}), 1u);
  EXPECT_EQ(c.get("smppd_x_total", {{"client", "c"}}), 0u);
  EXPECT_EQ(c.counter("smppd_x_total", {{"client", "a"}}).slot, id.slot);
}

TEST(Counters, ThreadsCountIntoTheirOwnCellsAndAScrapeSumsThem) {
  Counters c;
  const CounterId id = c.counter("smppd_y_total", {});
  constexpr int kThreads = 4;
  constexpr uint64_t kEach = 200'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (uint64_t i = 0; i < kEach; ++i) c.add(id);
    });
  }
  // Scrapes while they count never see more than was added, and never go back.
  uint64_t last = 0;
  for (int i = 0; i < 100; ++i) {
    const uint64_t now = c.get("smppd_y_total", {});
    EXPECT_GE(now, last);
    EXPECT_LE(now, kThreads * kEach);
    last = now;
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.get("smppd_y_total", {}), kThreads * kEach);
}

TEST(Counters, GaugesGoDown) {
  Counters c;
  const CounterId g = c.gauge("smppd_connections_active", {{"listener", "l"}});
  c.add_signed(g, 3);
  std::thread([&] { c.add_signed(g, -5); }).join();
  EXPECT_EQ(c.get_gauge("smppd_connections_active", {{"listener", "l"}}), -2);
  bool seen = false;
  c.collect([&](const Counters::Sample& s) {
    if (s.name != "smppd_connections_active") return;
    seen = true;
    EXPECT_EQ(s.kind, SeriesKind::gauge);
    EXPECT_EQ(s.value, -2);
  });
  EXPECT_TRUE(seen);
  // Not a counter: left out of the counters' snapshot.
  EXPECT_TRUE(c.snapshot().empty());
}

TEST(Counters, HistogramsCountPerBucketAndSumInTheirScale) {
  static constexpr std::array<uint64_t, 3> kBounds = {10, 100, 1000};
  static constexpr Buckets kBuckets{kBounds, 1e3};
  Counters c;
  const HistogramId h = c.histogram("smppd_t_seconds", {{"upstream", "u"}}, kBuckets);
  for (uint64_t v : {0, 10, 11, 100, 999, 1000, 1001, 50'000}) c.observe(h, v);
  int seen = 0;
  c.collect([&](const Counters::Sample& s) {
    ++seen;
    ASSERT_EQ(s.kind, SeriesKind::histogram);
    ASSERT_EQ(s.buckets, &kBuckets);
    ASSERT_EQ(s.counts.size(), 4u);
    // <=10: 0 and 10; <=100: 11, 100; <=1000: 999, 1000; above: 1001, 50000.
    EXPECT_EQ(s.counts[0], 2u);
    EXPECT_EQ(s.counts[1], 2u);
    EXPECT_EQ(s.counts[2], 2u);
    EXPECT_EQ(s.counts[3], 2u);
    EXPECT_DOUBLE_EQ(s.sum, (0 + 10 + 11 + 100 + 999 + 1000 + 1001 + 50'000) / 1e3);
  });
  EXPECT_EQ(seen, 1);
}

TEST(Counters, CollectIsSortedByNameThenLabels) {
  Counters c;
  c.add("smppd_b_total", {{"x", "2"}});
  c.add("smppd_a_total", {});
  c.add("smppd_b_total", {{"x", "1"}});
  std::vector<std::string> order;
  c.collect([&](const Counters::Sample& s) {
    std::string k(s.name);
    for (const auto& [n, v] : s.labels) k += "," + n + "=" + v;
    order.push_back(k);
  });
  EXPECT_EQ(order, (std::vector<std::string>{"smppd_a_total", "smppd_b_total,x=1",
                                             "smppd_b_total,x=2"}));
  const auto snap = c.snapshot();
  ASSERT_EQ(snap.size(), 3u);
  EXPECT_EQ(snap[1].first, R"(smppd_b_total{x="1"})");
}

TEST(Counters, SlotForRunsItsMakerOncePerThreadAndKey) {
  Counters c;
  int made = 0;
  auto make = [&] {
    ++made;
    return c.counter("smppd_m_total", {{"k", "1"}}).slot;
  };
  for (int i = 0; i < 10; ++i) c.add(CounterId{c.slot_for(42, make)});
  EXPECT_EQ(made, 1);
  std::thread([&] { c.add(CounterId{c.slot_for(42, make)}); }).join();
  EXPECT_EQ(made, 2);
  EXPECT_EQ(c.get("smppd_m_total", {{"k", "1"}}), 11u);
}

TEST(Counters, TwoRegistriesOnOneThreadKeepTheirCountsApart) {
  Counters a;
  Counters b;
  for (int i = 0; i < 3; ++i) {
    a.add("smppd_z_total", {});
    b.add("smppd_z_total", {}, 10);
  }
  EXPECT_EQ(a.get("smppd_z_total", {}), 3u);
  EXPECT_EQ(b.get("smppd_z_total", {}), 30u);
  // A registry made where another one was (same address, new generation) starts at zero.
  auto c = std::make_unique<Counters>();
  c->add("smppd_z_total", {}, 7);
  c.reset();
  c = std::make_unique<Counters>();
  EXPECT_EQ(c->get("smppd_z_total", {}), 0u);
  c->add("smppd_z_total", {});
  EXPECT_EQ(c->get("smppd_z_total", {}), 1u);
}

TEST(Counters, ManySeriesSpanChunksAndAHistogramNeverStraddlesOne) {
  static constexpr std::array<uint64_t, 5> kBounds = {1, 2, 3, 4, 5};
  static constexpr Buckets kBuckets{kBounds};
  Counters c;
  std::map<std::string, uint64_t> expected;
  for (int i = 0; i < 3000; ++i) {
    const std::string v = std::to_string(i);
    if (i % 7 == 0) {
      c.observe(c.histogram("smppd_h", {{"i", v}}, kBuckets), 3);
    } else {
      c.add("smppd_c_total", {{"i", v}}, i);
      expected[v] = i;
    }
  }
  for (const auto& [v, n] : expected) ASSERT_EQ(c.get("smppd_c_total", {{"i", v}}), n) << v;
  int histograms = 0;
  c.collect([&](const Counters::Sample& s) {
    if (s.kind != SeriesKind::histogram) return;
    ++histograms;
    EXPECT_EQ(s.counts[2], 1u);
    EXPECT_DOUBLE_EQ(s.sum, 3);
  });
  EXPECT_EQ(histograms, 429);
}

}  // namespace
}  // namespace smppd
