// MessageMap: smppd id <-> (upstream, SMSC id), tolerant lookups, replacement, eviction of the
// oldest, and the two indexes staying consistent under churn.
#include "gateway/message_map.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>

namespace smppd::gateway {
namespace {

MessageRecord record(uint64_t id, uint32_t upstream, std::string_view smsc_id,
                     std::string_view client = "alice") {
  MessageRecord r;
  r.id = id;
  r.client.assign(client);
  r.upstream = upstream;
  r.smsc_id.assign(smsc_id);
  return r;
}

TEST(MessageMap, FindsBySmscIdAndById) {
  MessageMap m;
  const uint32_t a = m.upstream_index("carrier-a");
  const uint32_t b = m.upstream_index("carrier-b");
  EXPECT_NE(a, b);
  EXPECT_EQ(m.upstream_index("carrier-a"), a);
  m.add(record(1, a, "ABC123"));
  m.add(record(2, b, "ABC123", "bob"));
  auto r = m.find_by_smsc_id(a, "abc123", IdMatch::exact);  // case does not matter
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, 1u);
  EXPECT_EQ(r->client.view(), "alice");
  EXPECT_EQ(r->smsc_id.view(), "ABC123");                   // as the SMSC gave it
  r = m.find_by_smsc_id(b, " 000ABC123 ", IdMatch::exact);  // spaces, leading zeros
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, 2u);
  EXPECT_FALSE(m.find_by_smsc_id(a, "ABC124"));
  auto by_id = m.find_by_id(2);
  ASSERT_TRUE(by_id);
  EXPECT_EQ(by_id->upstream, b);
  EXPECT_FALSE(m.find_by_id(3));
  EXPECT_EQ(m.size(), 2u);
}

TEST(MessageMap, ConversionsOnlyWhenTolerantAndNeverAfterAFinalReceipt) {
  MessageMap m;
  const uint32_t u = m.upstream_index("u");
  m.add(record(7, u, "0A1B2C3D"));
  EXPECT_FALSE(m.find_by_smsc_id(u, "169552957", IdMatch::exact));
  bool converted = false;
  auto r = m.find_by_smsc_id(u, "169552957", IdMatch::tolerant, &converted);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, 7u);
  EXPECT_TRUE(converted);
  m.mark_final_receipt(*r);
  EXPECT_FALSE(m.find_by_smsc_id(u, "169552957", IdMatch::tolerant));
  // The exact id still finds it (a later receipt for the same message).
  r = m.find_by_smsc_id(u, "0a1b2c3d", IdMatch::tolerant, &converted);
  ASSERT_TRUE(r);
  EXPECT_FALSE(converted);
  EXPECT_TRUE(r->final_receipt);
}

TEST(MessageMap, ExactMatchesComeFirst) {
  MessageMap m;
  const uint32_t u = m.upstream_index("u");
  // Sequential decimal ids: "16" is also what "10" reads as in hex.
  m.add(record(1, u, "16"));
  m.add(record(2, u, "10"));
  auto hit = m.find_by_smsc_id(u, "10", IdMatch::tolerant);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->id, 2u);
  hit = m.find_by_smsc_id(u, "16", IdMatch::tolerant);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->id, 1u);
}

TEST(MessageMap, ARepeatedSmscIdBelongsToTheNewerMessage) {
  MessageMap m;
  const uint32_t u = m.upstream_index("u");
  m.add(record(1, u, "42"));
  m.add(record(2, u, "42"));
  auto r = m.find_by_smsc_id(u, "42");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, 2u);
  EXPECT_FALSE(m.find_by_id(1));  // the older message's id is gone
  EXPECT_TRUE(m.find_by_id(2));
  EXPECT_EQ(m.size(), 1u);
}

TEST(MessageMap, ForgetsTheOldestBeyondItsBound) {
  constexpr std::size_t kPerShard = 100;
  MessageMap m(MessageMap::kShards * kPerShard);
  const uint32_t u = m.upstream_index("u");
  const uint64_t n = MessageMap::kShards * kPerShard * 4;
  for (uint64_t i = 1; i <= n; ++i) m.add(record(i, u, std::to_string(i * 7919)));
  EXPECT_LE(m.size(), MessageMap::kShards * kPerShard);
  EXPECT_GT(m.size(), MessageMap::kShards * kPerShard * 9 / 10);  // keys spread over the shards
  // The newest are all there, by both keys; the oldest are gone from both.
  for (uint64_t i = n - 500; i <= n; ++i) {
    auto r = m.find_by_smsc_id(u, std::to_string(i * 7919), IdMatch::exact);
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->id, i);
    ASSERT_TRUE(m.find_by_id(i)) << i;
  }
  for (uint64_t i = 1; i <= n / 4; ++i) {
    EXPECT_FALSE(m.find_by_smsc_id(u, std::to_string(i * 7919), IdMatch::exact)) << i;
    EXPECT_FALSE(m.find_by_id(i)) << i;
  }
}

// Random adds (with repeated SMSC ids) against a plain model: every lookup agrees.
TEST(MessageMap, AgreesWithAModelUnderChurn) {
  MessageMap m(MessageMap::kShards * 4096);  // large enough that nothing is evicted
  const uint32_t u = m.upstream_index("u");
  std::unordered_map<std::string, uint64_t> by_smsc;  // canonical smsc id -> id
  std::unordered_map<uint64_t, std::string> by_id;
  std::mt19937_64 rng(12345);
  for (uint64_t id = 1; id <= 20000; ++id) {
    const std::string smsc = "x" + std::to_string(rng() % 8000);  // repeats on purpose
    auto old = by_smsc.find(smsc);
    if (old != by_smsc.end()) by_id.erase(old->second);
    by_smsc[smsc] = id;
    by_id[id] = smsc;
    m.add(record(id, u, smsc));
  }
  EXPECT_EQ(m.size(), by_smsc.size());
  for (const auto& [smsc, id] : by_smsc) {
    auto r = m.find_by_smsc_id(u, smsc, IdMatch::exact);
    ASSERT_TRUE(r) << smsc;
    EXPECT_EQ(r->id, id);
  }
  for (uint64_t id = 1; id <= 20000; ++id) {
    auto r = m.find_by_id(id);
    auto expected = by_id.find(id);
    ASSERT_EQ(r.has_value(), expected != by_id.end()) << id;
    if (r) {
      EXPECT_EQ(r->smsc_id.view(), expected->second);
    }
  }
}

// Two threads adding messages whose SMSC ids collide (an SMSC that repeats ids): the two
// indexes stay in step, no id is left behind pointing at a slot it lost.
TEST(MessageMap, IndexesStayInStepUnderConcurrentAdds) {
  MessageMap m(MessageMap::kShards * 64);
  const uint32_t u = m.upstream_index("u");
  std::atomic<uint64_t> next_id{1};
  auto work = [&](uint64_t seed) {
    std::mt19937_64 rng(seed);
    for (int i = 0; i < 50000; ++i) {
      m.add(record(next_id.fetch_add(1), u, "id" + std::to_string(rng() % 3000)));
    }
  };
  std::thread a(work, 1), b(work, 2);
  a.join();
  b.join();
  EXPECT_EQ(m.id_index_size(), m.size());
}

}  // namespace
}  // namespace smppd::gateway
