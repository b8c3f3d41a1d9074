// Helpers shared by the limits and auth tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "config/values.hpp"

namespace smppd::test {

// The bytes of an IPv4 or IPv6 address literal.
inline std::vector<uint8_t> ip(std::string_view text) {
  auto a = config::parse_ip(text);
  EXPECT_TRUE(a) << text;
  if (!a) return {};
  auto v = a->view();
  return {v.begin(), v.end()};
}

inline config::Cidr cidr(std::string_view text) {
  auto parsed = config::Cidr::parse(text);
  if (parsed.index() != 0) {
    ADD_FAILURE() << text << ": " << std::get<1>(parsed).reason;
    return std::get<0>(config::Cidr::parse("0.0.0.0/32"));
  }
  return std::get<0>(parsed);
}

}  // namespace smppd::test
