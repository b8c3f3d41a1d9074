#include "limits/peer_key.hpp"

#include <gtest/gtest.h>

#include "limits/test_util.hpp"

using smppd::limits::PeerKey;
using smppd::test::ip;

TEST(PeerKey, MappedIpv6CountsAsIpv4) {
  EXPECT_EQ(PeerKey::of(ip("::ffff:192.0.2.7")), PeerKey::of(ip("192.0.2.7")));
  EXPECT_EQ(PeerKey::of(ip("::ffff:192.0.2.7")).size, 4);
  EXPECT_NE(PeerKey::of(ip("::192.0.2.7")), PeerKey::of(ip("192.0.2.7")));  // not mapped
  EXPECT_NE(PeerKey::of(ip("192.0.2.7")), PeerKey::of(ip("192.0.2.8")));
  EXPECT_EQ(PeerKey::Hash{}(PeerKey::of(ip("::ffff:192.0.2.7"))),
            PeerKey::Hash{}(PeerKey::of(ip("192.0.2.7"))));
}

TEST(PeerKey, OtherLengthsGiveTheEmptyKey) {
  const uint8_t five[5] = {1, 2, 3, 4, 5};
  EXPECT_EQ(PeerKey::of(five).size, 0);
  EXPECT_EQ(PeerKey::of({}).size, 0);
}

TEST(PeerKey, BlockOfIpv6IsItsSlash64) {
  EXPECT_EQ(PeerKey::block_of(ip("2001:db8:1:2::1")),
            PeerKey::block_of(ip("2001:db8:1:2:ffff::9")));
  EXPECT_NE(PeerKey::block_of(ip("2001:db8:1:2::1")), PeerKey::block_of(ip("2001:db8:1:3::1")));
  EXPECT_NE(PeerKey::block_of(ip("192.0.2.1")), PeerKey::block_of(ip("192.0.2.2")));
  EXPECT_EQ(PeerKey::block_of(ip("::ffff:192.0.2.1")), PeerKey::of(ip("192.0.2.1")));
}
