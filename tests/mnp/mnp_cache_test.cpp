// The MNP cache (mnp/mnp_cache): numbers packed, answers kept until their expiry, failures kept
// apart, eviction when full, memory fixed at construction, and several threads at once.
#include "mnp/mnp_cache.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <random>
#include <thread>
#include <unordered_map>
#include <vector>

namespace smppd::mnp {
namespace {

using namespace std::chrono_literals;
using Clock = MnpCache::Clock;

const Clock::time_point kEpoch = Clock::time_point{} + 1000h;

Network vodacom() {
  return Network{655, 1, false, false};
}

Network ported_to(uint16_t mcc, uint16_t mnc, bool three = false) {
  return Network{mcc, mnc, three, true};
}

uint64_t key(std::string_view e164) {
  auto k = pack_number(e164);
  EXPECT_TRUE(k.has_value()) << e164;
  return k.value_or(0);
}

TEST(PackNumber, DigitsAndTheirCountMakeTheKey) {
  EXPECT_EQ(pack_number("+258841234567"), pack_number("258841234567"));
  EXPECT_NE(pack_number("123"), pack_number("0123"));
  EXPECT_NE(pack_number("0"), pack_number("00"));
  EXPECT_TRUE(pack_number("999999999999999").has_value());  // 15 digits
  EXPECT_EQ(unpack_number(key("+0012345")), "0012345");
  EXPECT_EQ(unpack_number(key("999999999999999")), "999999999999999");
  EXPECT_NE(key("1"), 0u);
}

TEST(PackNumber, RefusesWhatIsNotAnE164Number) {
  for (std::string_view bad :
       {"", "+", "1234567890123456", "+25884 123", "25884a", "++258", "258+84", "-1", "0x12"}) {
    EXPECT_FALSE(pack_number(bad).has_value()) << bad;
  }
}

TEST(MnpCache, KeepsAnswersAndFailuresApart) {
  MnpCache cache(100, kEpoch);
  const auto now = kEpoch + 1s;
  cache.put(key("+258841234567"), vodacom(), now, 24h);
  cache.put(key("+27821234567"), ported_to(655, 10), now, 24h);
  cache.put(key("+27831234567"), Network{655, 123, true, false}, now, 24h);
  cache.put_failure(key("+447700900123"), now, 1min);

  auto hit = cache.find(key("258841234567"), now);
  ASSERT_TRUE(hit.has_value());
  EXPECT_FALSE(hit->failed);
  EXPECT_EQ(hit->network, vodacom());
  EXPECT_EQ(hit->network.mnc_text(), "01");

  hit = cache.find(key("+27821234567"), now);
  ASSERT_TRUE(hit.has_value());
  EXPECT_TRUE(hit->network.ported);
  EXPECT_EQ(hit->network.mnc, 10);

  hit = cache.find(key("+27831234567"), now);
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->network.mnc_text(), "123");
  EXPECT_EQ(hit->network.mcc_text(), "655");

  hit = cache.find(key("+447700900123"), now);
  ASSERT_TRUE(hit.has_value());
  EXPECT_TRUE(hit->failed);

  EXPECT_FALSE(cache.find(key("+1"), now).has_value());
  EXPECT_EQ(cache.size(), 4u);
}

TEST(MnpCache, AnEntryExpiresAtItsTtlAndIsRemovedWhenRead) {
  MnpCache cache(100, kEpoch);
  const auto t0 = kEpoch + 10s;
  cache.put(key("111"), vodacom(), t0, 24h);
  cache.put_failure(key("222"), t0, 60s);

  EXPECT_TRUE(cache.find(key("111"), t0 + 24h - 1ms).has_value());
  EXPECT_TRUE(cache.find(key("222"), t0 + 59s).has_value());
  EXPECT_FALSE(cache.find(key("222"), t0 + 60s).has_value());  // a failure lives 60 s
  EXPECT_FALSE(cache.find(key("111"), t0 + 24h).has_value());
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.stats().expired, 2u);
  // A time before the epoch counts from the epoch; a ttl of zero is expired at once.
  cache.put(key("333"), vodacom(), kEpoch - 1h, 1s);
  EXPECT_TRUE(cache.find(key("333"), kEpoch).has_value());
  cache.put(key("444"), vodacom(), t0, 0s);
  EXPECT_FALSE(cache.find(key("444"), t0).has_value());
}

TEST(MnpCache, APutReplacesTheNumbersEntry) {
  MnpCache cache(10, kEpoch);
  const auto now = kEpoch;
  cache.put_failure(key("555"), now, 1min);
  cache.put(key("555"), ported_to(234, 15), now, 24h);
  auto hit = cache.find(key("555"), now);
  ASSERT_TRUE(hit.has_value());
  EXPECT_FALSE(hit->failed);
  EXPECT_EQ(hit->network, ported_to(234, 15));
  cache.put(key("555"), vodacom(), now, 1s);  // the new expiry too
  EXPECT_FALSE(cache.find(key("555"), now + 2s).has_value());
  EXPECT_EQ(cache.stats().replaced, 2u);
  EXPECT_TRUE(cache.erase(key("666")) == false);
  cache.put(key("666"), vodacom(), now, 1h);
  EXPECT_TRUE(cache.erase(key("666")));
  EXPECT_FALSE(cache.find(key("666"), now).has_value());
}

TEST(MnpCache, NeverHoldsMoreThanMaxEntriesAndKeepsWhatIsRead) {
  MnpCache cache(1000, kEpoch);
  const auto now = kEpoch;
  // 100 numbers read again and again, and 100,000 read once.
  for (int i = 0; i < 100; ++i) cache.put(key("1" + std::to_string(i)), vodacom(), now, 24h);
  for (int i = 0; i < 100000; ++i) {
    cache.put(key("2" + std::to_string(i)), vodacom(), now, 24h);
    if (i % 50 == 0) {
      for (int j = 0; j < 100; ++j) cache.find(key("1" + std::to_string(j)), now);
    }
    ASSERT_LE(cache.size(), 1000u);
  }
  EXPECT_EQ(cache.size(), 1000u);
  int kept = 0;
  for (int j = 0; j < 100; ++j) kept += cache.find(key("1" + std::to_string(j)), now) ? 1 : 0;
  EXPECT_EQ(kept, 100);  // read, so never the oldest of those sampled
  EXPECT_GE(cache.stats().evicted, 99000u);
}

// A table of 3 entries: eviction sees every entry, so which one goes is exact.
TEST(MnpCache, WhenFullAnExpiredEntryGoesFirst) {
  MnpCache cache(3, kEpoch);
  const auto t0 = kEpoch;
  cache.put(key("1"), vodacom(), t0, 24h);
  cache.put(key("2"), vodacom(), t0, 1min);  // the only one to expire
  cache.put(key("3"), vodacom(), t0, 24h);
  cache.put(key("4"), vodacom(), t0 + 1h, 24h);
  EXPECT_EQ(cache.stats().expired, 1u);
  EXPECT_EQ(cache.stats().evicted, 0u);
  for (const char* n : {"1", "3", "4"}) EXPECT_TRUE(cache.find(key(n), t0 + 1h)) << n;
}

TEST(MnpCache, WhenFullTheEntryUnusedLongestGoes) {
  MnpCache cache(3, kEpoch);
  const auto t0 = kEpoch;
  cache.put(key("1"), vodacom(), t0, 24h);
  cache.put(key("2"), vodacom(), t0, 24h);
  cache.put(key("3"), vodacom(), t0, 24h);
  EXPECT_TRUE(cache.find(key("1"), t0));  // the oldest, but read
  cache.put(key("4"), vodacom(), t0, 24h);
  EXPECT_EQ(cache.stats().evicted, 1u);
  EXPECT_FALSE(cache.find(key("2"), t0));
  for (const char* n : {"1", "3", "4"}) EXPECT_TRUE(cache.find(key(n), t0)) << n;
  // Of entries as old, the one that expires first goes: a failure before an answer.
  MnpCache same_age(2, kEpoch);
  same_age.put_failure(key("5"), t0, 1min);
  same_age.put(key("6"), vodacom(), t0, 24h);
  same_age.put(key("7"), vodacom(), t0, 24h);
  EXPECT_FALSE(same_age.find(key("5"), t0));
  EXPECT_TRUE(same_age.find(key("6"), t0));
}

// Eviction happens where new entries go: the table stays evenly full and a put stays cheap
// through any number of evictions (a CLOCK hand sweeping the slots made puts 30 to 200 times
// slower while its first turn evicted).
// (How cheap an evicting put stays is measured in bench/mnp_bench.cpp, not timed here.)
TEST(MnpCache, AFullCacheEvictsOneEntryForEachNewOne) {
  MnpCache cache(64 * 4096, kEpoch);
  const auto puts = [&](uint64_t from) {
    for (uint64_t i = 0; i < 64 * 4096; ++i)
      cache.put(*pack_number(std::to_string(from + i)), vodacom(), kEpoch, 1h);
  };
  puts(100000000);
  const std::size_t full = cache.size();
  puts(200000000);
  puts(300000000);
  puts(400000000);
  EXPECT_EQ(cache.stats().evicted, 3u * 64 * 4096);
  EXPECT_GE(cache.size(), full);  // shards fill unevenly: the first round leaves a little room
  EXPECT_LE(cache.size(), 64u * 4096);
  // The newest are there.
  EXPECT_TRUE(cache.find(*pack_number(std::to_string(400000000 + 64 * 4096 - 1)), kEpoch));
}

// Against a map, through inserts, replacements, expiries and evictions at every load: every
// entry the cache has is the right one, and every number it should have (not evicted) it has.
TEST(MnpCache, AgreesWithAMapThroughChurn) {
  MnpCache cache(3000, kEpoch);
  std::unordered_map<uint64_t, std::pair<uint16_t, Clock::time_point>> model;
  std::mt19937_64 random(7);
  auto now = kEpoch;
  for (int step = 0; step < 200000; ++step) {
    now += 10ms;
    const uint64_t k = key(std::to_string(random() % 6000 + 1));
    if (random() % 3 == 0) {
      const auto hit = cache.find(k, now);
      const auto it = model.find(k);
      if (hit) {
        ASSERT_NE(it, model.end());
        ASSERT_EQ(hit->network.mnc, it->second.first);
        ASSERT_LT(now, it->second.second);
      } else if (it != model.end() && now >= it->second.second) {
        model.erase(it);
      }
    } else {
      const auto mnc = static_cast<uint16_t>(random() % 1000);
      const auto ttl = std::chrono::milliseconds(random() % 20000 + 1);
      cache.put(k, Network{655, mnc, true, false}, now, ttl);
      model[k] = {mnc, now + ttl};
    }
  }
  ASSERT_LE(cache.size(), 3000u);
  // No entry lost its way: what is found is right, what is not found was evicted or expired.
  std::size_t found = 0;
  for (const auto& [k, v] : model) {
    if (const auto hit = cache.find(k, now)) {
      ASSERT_EQ(hit->network.mnc, v.first);
      ++found;
    }
  }
  EXPECT_GT(found, 0u);
}

TEST(MnpCache, MemoryIsFixedAtConstructionAndBounded) {
  MnpCache cache(1000000, kEpoch);
  const std::size_t before = cache.memory_bytes();
  // About 23 bytes per entry: 16-byte slots at most 70 % full.
  EXPECT_LT(before, 1000000u * 24);
  EXPECT_GT(before, 1000000u * 16);
  EXPECT_EQ(cache.shards(), 64u);
  for (uint64_t i = 0; i < 2000000; ++i)
    cache.put(key(std::to_string(10000000 + i)), vodacom(), kEpoch, 1h);
  EXPECT_EQ(cache.memory_bytes(), before);
  EXPECT_LE(cache.size(), 1000000u);
  EXPECT_GE(cache.size(), 990000u);  // shards fill evenly
  EXPECT_GT(cache.slots(), cache.max_entries());
}

TEST(MnpCache, ASmallCacheIsOneShardAndExact) {
  MnpCache one(1, kEpoch);
  EXPECT_EQ(one.shards(), 1u);
  one.put(key("1"), vodacom(), kEpoch, 1h);
  one.put(key("2"), vodacom(), kEpoch, 1h);
  EXPECT_EQ(one.size(), 1u);
  EXPECT_TRUE(one.find(key("2"), kEpoch).has_value());
  MnpCache zero(0, kEpoch);  // taken as 1
  EXPECT_EQ(zero.max_entries(), 1u);
}

TEST(MnpCache, ClearForgetsEverything) {
  MnpCache cache(100, kEpoch);
  for (int i = 0; i < 100; ++i) cache.put(key(std::to_string(i + 1)), vodacom(), kEpoch, 1h);
  cache.clear();
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_FALSE(cache.find(key("1"), kEpoch).has_value());
  cache.put(key("1"), vodacom(), kEpoch, 1h);
  EXPECT_TRUE(cache.find(key("1"), kEpoch).has_value());
}

// Four threads put and read overlapping numbers; each number's value is derived from it, so a
// torn or misplaced entry would be seen.
TEST(MnpCache, ThreadsPutAndFindAtOnce) {
  MnpCache cache(200000, kEpoch);
  constexpr int kThreads = 4;
  constexpr uint64_t kNumbers = 300000;  // more than fit: evictions run concurrently too
  std::atomic<uint64_t> wrong{0}, hits{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 random(static_cast<uint64_t>(t) + 1);
      for (int i = 0; i < 300000; ++i) {
        const uint64_t n = random() % kNumbers;
        const uint64_t k = *pack_number(std::to_string(27000000000 + n));
        const Network expected{static_cast<uint16_t>(n % 1000), static_cast<uint16_t>(n % 997),
                               n % 2 == 0, n % 3 == 0};
        if (i % 2 == 0) {
          cache.put(k, expected, kEpoch, 1h);
        } else if (const auto hit = cache.find(k, kEpoch)) {
          hits.fetch_add(1);
          if (!(hit->network == expected) || hit->failed) wrong.fetch_add(1);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0u);
  EXPECT_GT(hits.load(), 0u);
  EXPECT_LE(cache.size(), 200000u);
  const auto stats = cache.stats();
  EXPECT_EQ(stats.hits, hits.load());
  EXPECT_EQ(stats.inserted - stats.evicted - stats.expired, cache.size());
}

}  // namespace
}  // namespace smppd::mnp
