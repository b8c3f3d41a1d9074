// The external backends' answers remembered (extauth/answer_cache): by a keyed hash of all four
// of system_id, password, address and bind type; fresh, stale and gone; bounded.
#include "extauth/answer_cache.hpp"

#include <gtest/gtest.h>

namespace smppd::extauth {
namespace {

using namespace std::chrono_literals;
using Clock = AnswerCache::Clock;

const std::array<uint8_t, 4> kPeer = {10, 0, 0, 1};
const std::array<uint8_t, 4> kOther = {10, 0, 0, 2};

AnswerCache::Entry accept(Clock::time_point now, std::chrono::milliseconds ttl,
                          std::chrono::milliseconds stale) {
  auto c = std::make_shared<config::ClientConfig>();
  c->system_id = "acme";
  return {c, {}, "ldap", now + ttl, now + ttl + stale};
}

TEST(AnswerCache, TheKeyNeedsAllFourAndHidesThePassword) {
  AnswerCache cache(10);
  const auto k = cache.key("acme", "pw", kPeer, config::BindType::transmitter);
  EXPECT_EQ(k, cache.key("acme", "pw", kPeer, config::BindType::transmitter));
  EXPECT_NE(k, cache.key("acme", "pw2", kPeer, config::BindType::transmitter));
  EXPECT_NE(k, cache.key("acme2", "pw", kPeer, config::BindType::transmitter));
  EXPECT_NE(k, cache.key("acme", "pw", kOther, config::BindType::transmitter));
  EXPECT_NE(k, cache.key("acme", "pw", kPeer, config::BindType::receiver));
  // Lengths are part of it: "ab"+"c" is not "a"+"bc".
  EXPECT_NE(cache.key("ab", "c", kPeer, config::BindType::receiver),
            cache.key("a", "bc", kPeer, config::BindType::receiver));
  // Another cache (another start) keys differently: nothing to precompute.
  AnswerCache other(10);
  EXPECT_NE(k, other.key("acme", "pw", kPeer, config::BindType::transmitter));
}

TEST(AnswerCache, FreshThenStaleThenGone) {
  AnswerCache cache(10);
  const auto now = Clock::now();
  const auto k = cache.key("acme", "pw", kPeer, config::BindType::transmitter);
  EXPECT_FALSE(cache.find(k, now, true));
  cache.put(k, accept(now, 60s, 3600s));
  EXPECT_TRUE(cache.find(k, now + 59s, false));
  EXPECT_FALSE(cache.find(k, now + 61s, false));
  auto stale = cache.find(k, now + 61s, true);
  ASSERT_TRUE(stale);
  EXPECT_EQ(stale->backend, "ldap");
  EXPECT_FALSE(cache.find(k, now + 3661s, true));
}

TEST(AnswerCache, BoundedOldestFirst) {
  AnswerCache cache(3);
  const auto now = Clock::now();
  std::vector<AnswerCache::Key> keys;
  for (int i = 0; i < 5; ++i) {
    keys.push_back(cache.key("c" + std::to_string(i), "pw", kPeer, config::BindType::transmitter));
    cache.put(keys.back(), accept(now, 60s, 0s));
  }
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_FALSE(cache.find(keys[0], now, false));
  EXPECT_FALSE(cache.find(keys[1], now, false));
  EXPECT_TRUE(cache.find(keys[4], now, false));
  cache.limit(1);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_TRUE(cache.find(keys[4], now, false));
  // Stored again: replaced, not doubled.
  cache.put(keys[4], AnswerCache::Entry{nullptr, "wrong_password", "", now + 1s, now + 1s});
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_FALSE(cache.find(keys[4], now, false)->client);
  cache.clear();
  EXPECT_EQ(cache.size(), 0u);
}

}  // namespace
}  // namespace smppd::extauth
