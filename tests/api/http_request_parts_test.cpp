#include "api/http/request_parts.hpp"

#include <gtest/gtest.h>

namespace smppd::http {
namespace {

TEST(RequestParts, PathSegments) {
  using V = std::vector<std::string_view>;
  EXPECT_EQ(split_path("/api/clients/alice/connections"), (V{"api", "clients", "alice", "connections"}));
  EXPECT_EQ(split_path("//api///status/"), (V{"api", "status"}));
  EXPECT_EQ(split_path(""), V{});
  EXPECT_EQ(split_path("/"), V{});
}

TEST(RequestParts, PercentDecoding) {
  EXPECT_EQ(percent_decode("a%2Fb"), "a/b");
  EXPECT_EQ(percent_decode("%41%62c"), "Abc");
  EXPECT_EQ(percent_decode("plain"), "plain");
  EXPECT_EQ(percent_decode("%zz"), std::nullopt);
  EXPECT_EQ(percent_decode("%4"), std::nullopt);
  EXPECT_EQ(percent_decode("a%"), std::nullopt);
  EXPECT_EQ(percent_decode("%00"), std::string(1, '\0'));
}

TEST(RequestParts, Base64AsRfc4648Says) {
  EXPECT_EQ(base64_decode("Zg=="), "f");
  EXPECT_EQ(base64_decode("Zm8="), "fo");
  EXPECT_EQ(base64_decode("Zm9v"), "foo");
  EXPECT_EQ(base64_decode("Zm9vYmFy"), "foobar");
  EXPECT_EQ(base64_decode(""), std::nullopt);
  EXPECT_EQ(base64_decode("Zm9"), std::nullopt);     // not a multiple of 4
  EXPECT_EQ(base64_decode("Z===") , std::nullopt);   // padding too early
  EXPECT_EQ(base64_decode("Zg==Zm9v"), std::nullopt);  // data after padding
  EXPECT_EQ(base64_decode("Zm9!"), std::nullopt);
  EXPECT_EQ(base64_decode(std::string(4100, 'A')), std::nullopt);
}

TEST(RequestParts, BasicCredentials) {
  // "ops:s3cret", "a:b:c" (the password may hold a colon), ":" (both empty).
  EXPECT_EQ(basic_credentials("Basic b3BzOnMzY3JldA=="), (std::pair<std::string, std::string>{"ops", "s3cret"}));
  EXPECT_EQ(basic_credentials("Basic YTpiOmM="), (std::pair<std::string, std::string>{"a", "b:c"}));
  EXPECT_EQ(basic_credentials("Basic Og=="), (std::pair<std::string, std::string>{"", ""}));
  EXPECT_EQ(basic_credentials("Basic b3Bz"), std::nullopt);  // "ops": no colon
  EXPECT_EQ(basic_credentials("Bearer b3BzOnMzY3JldA=="), std::nullopt);
  EXPECT_EQ(basic_credentials("Basic !!!!"), std::nullopt);
}

}  // namespace
}  // namespace smppd::http
