// The byte-level decodings the request parsers share.
#include "api/message/decoding.hpp"

#include <gtest/gtest.h>

#include <climits>

namespace smppd::api {
namespace {

TEST(Decoding, UrlDecode) {
  EXPECT_EQ(url_decode("a+b%21%2b%2B"), "a b!++");
  EXPECT_EQ(url_decode("%zz%4%"), "%zz%4%");  // kept as written
  EXPECT_EQ(url_decode("%00%FF"), std::string("\0\xFF", 2));
}

TEST(Decoding, Hex) {
  EXPECT_EQ(*hex_decode("00fFa1"), (std::vector<uint8_t>{0, 0xFF, 0xA1}));
  EXPECT_TRUE(hex_decode("")->empty());
  EXPECT_FALSE(hex_decode("abc"));
  EXPECT_FALSE(hex_decode("zz"));
  EXPECT_FALSE(hex_decode("0 "));
  EXPECT_EQ(hex_value('F'), 15);
  EXPECT_EQ(hex_value('g'), -1);
}

TEST(Decoding, ScanCInt) {
  EXPECT_EQ(scan_c_int("  -12abc"), -12);
  EXPECT_EQ(scan_c_int("+7"), 7);
  EXPECT_EQ(scan_c_int("2147483647"), INT_MAX);
  EXPECT_EQ(scan_c_int("-2147483648"), INT_MIN);
  EXPECT_FALSE(scan_c_int("2147483648"));
  EXPECT_FALSE(scan_c_int("99999999999999999999999"));
  EXPECT_FALSE(scan_c_int("abc"));
  EXPECT_FALSE(scan_c_int("-"));
  EXPECT_FALSE(scan_c_int(""));
}

TEST(Decoding, Words) {
  EXPECT_EQ(strip_blanks(" \t a b \r\n"), "a b");
  EXPECT_EQ(strip_blanks("   "), "");
  EXPECT_EQ(split_words(" 1  2\t3 "), (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_TRUE(split_words("  ").empty());
  EXPECT_TRUE(iequals("Content-Type", "content-TYPE"));
  EXPECT_FALSE(iequals("a", "ab"));
}

}  // namespace
}  // namespace smppd::api
