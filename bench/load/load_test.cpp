// The load generator's building blocks: the latency histogram, the message id table, the FIFO.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <unordered_map>

#include "load/fifo.hpp"
#include "load/latency_histogram.hpp"
#include "load/message_id_table.hpp"

namespace smppd::bench {
namespace {

TEST(LatencyHistogram, BucketsCoverEveryValueWithinOneSixtyFourth) {
  for (uint64_t v : {0ull, 1ull, 127ull, 128ull, 129ull, 255ull, 256ull, 1000ull, 123456789ull,
                     (1ull << 40) + 12345ull, ~0ull}) {
    const std::size_t i = LatencyHistogram::index_of(v);
    ASSERT_LT(i, LatencyHistogram::kBuckets);
    EXPECT_LE(LatencyHistogram::lowest_in(i), v) << v;
    EXPECT_GE(LatencyHistogram::highest_in(i), v) << v;
    if (v >= 128) {
      const double width =
          static_cast<double>(LatencyHistogram::highest_in(i) - LatencyHistogram::lowest_in(i) + 1);
      EXPECT_LE(width / static_cast<double>(v), 1.0 / 64 + 1e-12) << v;
    }
  }
  // Consecutive buckets tile the range.
  for (std::size_t i = 0; i + 2 < LatencyHistogram::kBuckets; ++i) {
    ASSERT_EQ(LatencyHistogram::highest_in(i) + 1, LatencyHistogram::lowest_in(i + 1)) << i;
  }
}

TEST(LatencyHistogram, PercentilesOfAUniformSpread) {
  LatencyHistogram h;
  for (uint64_t v = 1; v <= 100'000; ++v) h.record(v * 1000);  // 1 us .. 100 ms
  EXPECT_EQ(h.count(), 100'000u);
  EXPECT_EQ(h.min(), 1000u);
  EXPECT_EQ(h.max(), 100'000'000u);
  const auto near = [](uint64_t got, double want) {
    return std::abs(static_cast<double>(got) - want) <= want / 64 + 1;
  };
  EXPECT_TRUE(near(h.percentile(50), 50e6)) << h.percentile(50);
  EXPECT_TRUE(near(h.percentile(99), 99e6)) << h.percentile(99);
  EXPECT_TRUE(near(h.percentile(99.9), 99.9e6)) << h.percentile(99.9);
  EXPECT_EQ(h.percentile(100), 100'000'000u);
  EXPECT_NEAR(h.mean(), 50'000'500.0, 1.0);
}

TEST(LatencyHistogram, MergeAddsCounts) {
  LatencyHistogram a, b;
  a.record(10);
  b.record(1'000'000);
  a.merge(b);
  EXPECT_EQ(a.count(), 2u);
  EXPECT_EQ(a.min(), 10u);
  EXPECT_EQ(a.max(), 1'000'000u);
  EXPECT_EQ(LatencyHistogram().percentile(99), 0u);
}

TEST(MessageIdHash, CanonicalFormsHashAlike) {
  EXPECT_EQ(message_id_hash("0A1B"), message_id_hash("a1b"));
  EXPECT_EQ(message_id_hash(" 00042 "), message_id_hash("42"));
  EXPECT_EQ(message_id_hash("0"), message_id_hash("000"));
  EXPECT_NE(message_id_hash("42"), message_id_hash("43"));
  EXPECT_NE(message_id_hash(""), 0u);
}

TEST(MessageIdTable, MatchesAModelThroughGrowthAndDeletion) {
  MessageIdTable t(4);
  std::unordered_map<uint64_t, uint64_t> model;
  std::mt19937_64 rng(7);
  for (int step = 0; step < 200'000; ++step) {
    // A small key space, so that puts, hits and misses all happen often.
    const uint64_t key = message_id_hash(std::to_string(rng() % 5000));
    if (rng() % 2 == 0) {
      t.put(key, static_cast<uint64_t>(step));
      model[key] = static_cast<uint64_t>(step);
    } else {
      uint64_t v = 0;
      const auto it = model.find(key);
      ASSERT_EQ(t.contains(key), it != model.end()) << step;
      const bool found = t.take(key, v);
      ASSERT_EQ(found, it != model.end()) << step;
      if (found) {
        ASSERT_EQ(v, it->second);
        model.erase(it);
      }
    }
    ASSERT_EQ(t.size(), model.size());
  }
  std::size_t seen = 0;
  t.for_each([&](uint64_t k, uint64_t v) {
    ++seen;
    EXPECT_EQ(model.at(k), v);
  });
  EXPECT_EQ(seen, model.size());
}

TEST(Fifo, KeepsOrderAcrossGrowthAndWrap) {
  Fifo<int> f(2);
  int next_in = 0, next_out = 0;
  for (int round = 0; round < 100; ++round) {
    for (int i = 0; i < round % 7 + 1; ++i) f.push(next_in++);
    for (int i = 0; i < round % 5 && !f.empty(); ++i) {
      ASSERT_EQ(f.front(), next_out++);
      f.pop();
    }
  }
  while (!f.empty()) {
    ASSERT_EQ(f.front(), next_out++);
    f.pop();
  }
  EXPECT_EQ(next_in, next_out);
}

}  // namespace
}  // namespace smppd::bench
