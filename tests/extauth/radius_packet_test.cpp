// RADIUS packets (extauth/radius_packet): the Access-Request as RFC 2865 and RFC 3579 say (the
// User-Password hidden, the Message-Authenticator right), and answers read only when they are
// answers to it under the shared secret.
#include "extauth/radius_packet.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <map>

namespace smppd::extauth::radius {
namespace {

using Bytes = std::vector<uint8_t>;
const Authenticator kRa = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

std::array<uint8_t, 16> md5(const Bytes& data) {
  std::array<uint8_t, 16> out{};
  unsigned len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_md5(), nullptr);
  return out;
}

std::array<uint8_t, 16> hmac(std::string_view key, const Bytes& data) {
  std::array<uint8_t, 16> out{};
  unsigned len = 0;
  HMAC(EVP_md5(), key.data(), static_cast<int>(key.size()), data.data(), data.size(), out.data(), &len);
  return out;
}

// The attributes of a packet, by type (the first of each).
std::map<uint8_t, Bytes> attributes(const Bytes& p) {
  std::map<uint8_t, Bytes> out;
  for (std::size_t at = 20; at + 2 <= p.size(); at += p[at + 1]) {
    out.emplace(p[at], Bytes(p.begin() + static_cast<long>(at) + 2, p.begin() + static_cast<long>(at) + p[at + 1]));
  }
  return out;
}

// An answer as a server makes it.
Bytes answer(uint8_t code, uint8_t id, const Authenticator& ra, std::string_view secret,
             const Bytes& attrs, bool with_ma) {
  Bytes p = {code, id, 0, 0};
  p.insert(p.end(), ra.begin(), ra.end());
  std::size_t ma_at = 0;
  if (with_ma) {
    p.push_back(80);
    p.push_back(18);
    ma_at = p.size();
    p.insert(p.end(), 16, 0);
  }
  p.insert(p.end(), attrs.begin(), attrs.end());
  p[2] = static_cast<uint8_t>(p.size() >> 8);
  p[3] = static_cast<uint8_t>(p.size());
  if (with_ma) {
    const auto mac = hmac(secret, p);  // over the Request Authenticator, MA zeroed
    std::copy(mac.begin(), mac.end(), p.begin() + static_cast<long>(ma_at));
  }
  Bytes signed_part = p;
  signed_part.insert(signed_part.end(), secret.begin(), secret.end());
  const auto resp = md5(signed_part);
  std::copy(resp.begin(), resp.end(), p.begin() + 4);
  return p;
}

Bytes vsa(uint32_t vendor, uint8_t type, std::string_view value) {
  Bytes v = {26, static_cast<uint8_t>(8 + value.size()), static_cast<uint8_t>(vendor >> 24),
             static_cast<uint8_t>(vendor >> 16), static_cast<uint8_t>(vendor >> 8),
             static_cast<uint8_t>(vendor), type, static_cast<uint8_t>(2 + value.size())};
  v.insert(v.end(), value.begin(), value.end());
  return v;
}

TEST(AccessRequest, HidesThePasswordAndSignsThePacket) {
  AccessRequest r{"acme", "secretpw", "smppd", "10.0.0.1", "smpp"};
  auto p = encode_access_request(42, kRa, "s3cret", r);
  ASSERT_TRUE(p);
  const Bytes& b = *p;
  EXPECT_EQ(b[0], kAccessRequest);
  EXPECT_EQ(b[1], 42);
  EXPECT_EQ((b[2] << 8) | b[3], static_cast<int>(b.size()));
  EXPECT_TRUE(std::equal(kRa.begin(), kRa.end(), b.begin() + 4));
  // Message-Authenticator first.
  EXPECT_EQ(b[20], 80);
  auto a = attributes(b);
  EXPECT_EQ(a[1], Bytes({'a', 'c', 'm', 'e'}));
  EXPECT_EQ(a[32], Bytes({'s', 'm', 'p', 'p', 'd'}));
  EXPECT_EQ(a[31].size(), 8u);
  // User-Password: one block, p XOR MD5(secret + RA).
  ASSERT_EQ(a[2].size(), 16u);
  Bytes in = {'s', '3', 'c', 'r', 'e', 't'};
  in.insert(in.end(), kRa.begin(), kRa.end());
  const auto key = md5(in);
  std::string plain;
  for (int i = 0; i < 16; ++i) plain.push_back(static_cast<char>(a[2][i] ^ key[i]));
  EXPECT_EQ(plain, std::string("secretpw") + std::string(8, '\0'));
  // The Message-Authenticator is HMAC-MD5 of the packet with itself zeroed.
  Bytes zeroed = b;
  std::fill(zeroed.begin() + 22, zeroed.begin() + 38, 0);
  const auto mac = hmac("s3cret", zeroed);
  EXPECT_TRUE(std::equal(mac.begin(), mac.end(), b.begin() + 22));
}

TEST(AccessRequest, LongPasswordsChainTheirBlocksAndTooLongOnesAreRefused) {
  AccessRequest r{"acme", std::string(20, 'x'), "", "", ""};
  auto p = encode_access_request(1, kRa, "k", r);
  ASSERT_TRUE(p);
  auto a = attributes(*p);
  ASSERT_EQ(a[2].size(), 32u);
  // Block 2 is XORed with MD5(secret + cipher block 1).
  Bytes in = {'k'};
  in.insert(in.end(), a[2].begin(), a[2].begin() + 16);
  const auto key2 = md5(in);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(a[2][16 + i] ^ key2[i], 'x');
  EXPECT_EQ(a[2][16 + 4] ^ key2[4], 0);
  r.password = std::string(129, 'x');
  EXPECT_FALSE(encode_access_request(1, kRa, "k", r));
}

TEST(Reply, AnAcceptWithVendorSettingsIsRead) {
  Bytes attrs = vsa(32473, 3, "25");
  const Bytes tier = vsa(32473, 7, "gold");
  attrs.insert(attrs.end(), tier.begin(), tier.end());
  const Bytes other = vsa(9, 1, "cisco-avpair");  // another vendor's: ignored
  attrs.insert(attrs.end(), other.begin(), other.end());
  for (bool ma : {false, true}) {
    auto r = decode_reply(answer(kAccessAccept, 7, kRa, "s", attrs, ma), 7, kRa, "s", 32473);
    ASSERT_TRUE(std::holds_alternative<Reply>(r)) << std::get<std::string>(r);
    const Reply& reply = std::get<Reply>(r);
    EXPECT_EQ(reply.code, kAccessAccept);
    EXPECT_EQ(reply.message_authenticator, ma);
    ASSERT_EQ(reply.settings.size(), 2u);
    EXPECT_EQ(reply.settings[0], (std::pair<Field, std::string>{Field::rate_limit, "25"}));
    EXPECT_EQ(reply.settings[1], (std::pair<Field, std::string>{Field::tier, "gold"}));
  }
  // Vendor 0: none are read.
  auto r = decode_reply(answer(kAccessAccept, 7, kRa, "s", attrs, false), 7, kRa, "s", 0);
  EXPECT_TRUE(std::get<Reply>(r).settings.empty());
}

TEST(Reply, ARejectsAttributesMeanNothing) {
  auto r = decode_reply(answer(kAccessReject, 7, kRa, "s", vsa(32473, 7, "gold"), false), 7, kRa,
                        "s", 32473);
  ASSERT_TRUE(std::holds_alternative<Reply>(r));
  EXPECT_EQ(std::get<Reply>(r).code, kAccessReject);
  EXPECT_TRUE(std::get<Reply>(r).settings.empty());
}

TEST(Reply, WhatIsNotAnAnswerToTheRequestIsRefused) {
  const Bytes good = answer(kAccessAccept, 7, kRa, "s", {}, true);
  auto refused = [&](const Bytes& p, uint8_t id, std::string_view secret, std::string_view says) {
    auto r = decode_reply(p, id, kRa, secret, 32473);
    ASSERT_TRUE(std::holds_alternative<std::string>(r)) << says;
    EXPECT_NE(std::get<std::string>(r).find(says), std::string::npos) << std::get<std::string>(r);
  };
  refused(good, 8, "s", "identifier");
  refused(good, 7, "other", "Response Authenticator");
  refused(Bytes(good.begin(), good.begin() + 10), 7, "s", "shorter");
  Bytes longer = good;
  longer[3] = static_cast<uint8_t>(longer[3] + 10);
  refused(longer, 7, "s", "length");
  // A Message-Authenticator that does not match (made with another secret, the rest right).
  Bytes forged = answer(kAccessAccept, 7, kRa, "s", {}, false);
  {
    Bytes p = {kAccessAccept, 7, 0, 38};
    p.insert(p.end(), kRa.begin(), kRa.end());
    p.push_back(80);
    p.push_back(18);
    const auto mac = hmac("wrong", Bytes(p.begin(), p.end()));
    p.insert(p.end(), mac.begin(), mac.end());
    Bytes signed_part = p;
    for (char c : std::string("s")) signed_part.push_back(static_cast<uint8_t>(c));
    const auto resp = md5(signed_part);
    std::copy(resp.begin(), resp.end(), p.begin() + 4);
    forged = p;
  }
  refused(forged, 7, "s", "Message-Authenticator");
  refused(answer(5, 7, kRa, "s", {}, false), 7, "s", "code 5");
  // A malformed attribute.
  refused(answer(kAccessAccept, 7, kRa, "s", Bytes{1, 1}, false), 7, "s", "length");
  refused(answer(kAccessAccept, 7, kRa, "s", Bytes{26, 9, 0, 0, 0x7E, 0xD9, 3, 9, 'x'}, false), 7,
          "s", "malformed");
}

TEST(Reply, AMessageAuthenticatorCanBeRequired) {
  const Bytes without = answer(kAccessAccept, 7, kRa, "s", {}, false);
  const Bytes with = answer(kAccessAccept, 7, kRa, "s", {}, true);
  EXPECT_TRUE(std::holds_alternative<Reply>(decode_reply(without, 7, kRa, "s", 0, false)));
  auto r = decode_reply(without, 7, kRa, "s", 0, true);
  ASSERT_TRUE(std::holds_alternative<std::string>(r));
  EXPECT_NE(std::get<std::string>(r).find("no Message-Authenticator"), std::string::npos);
  EXPECT_TRUE(std::holds_alternative<Reply>(decode_reply(with, 7, kRa, "s", 0, true)));
}

TEST(Reply, PaddingPastTheLengthIsIgnored) {
  Bytes p = answer(kAccessAccept, 7, kRa, "s", {}, true);
  p.insert(p.end(), 10, 0xAA);
  EXPECT_TRUE(std::holds_alternative<Reply>(decode_reply(p, 7, kRa, "s", 32473)));
}

}  // namespace
}  // namespace smppd::extauth::radius
