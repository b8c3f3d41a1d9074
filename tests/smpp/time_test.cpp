#include "smpp/time.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace smpp;

TEST(SmppTime, ParsesAbsoluteFields) {
  auto t = parse_time("230115123045704+");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->kind, SmppTime::Kind::absolute);
  EXPECT_EQ(t->year, 23);
  EXPECT_EQ(t->month, 1);
  EXPECT_EQ(t->day, 15);
  EXPECT_EQ(t->hour, 12);
  EXPECT_EQ(t->minute, 30);
  EXPECT_EQ(t->second, 45);
  EXPECT_EQ(t->tenths, 7);
  EXPECT_EQ(t->utc_offset_quarters, 4);

  auto west = parse_time("991231235959920-");
  ASSERT_TRUE(west);
  EXPECT_EQ(west->utc_offset_quarters, -20);
  EXPECT_EQ(west->tenths, 9);
}

TEST(SmppTime, ParsesRelative) {
  auto t = parse_time("010203040506000R");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->kind, SmppTime::Kind::relative);
  EXPECT_EQ(t->year, 1);
  EXPECT_EQ(t->month, 2);
  EXPECT_EQ(t->day, 3);
  EXPECT_EQ(t->hour, 4);
  EXPECT_EQ(t->minute, 5);
  EXPECT_EQ(t->second, 6);
  // Relative fields are counts: values that are no calendar field are allowed.
  auto counts = parse_time("009999999999000R");
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->month, 99);
  EXPECT_EQ(counts->hour, 99);
  // t and nn are ignored for relative times.
  auto ignored = parse_time("000001000000512R");
  ASSERT_TRUE(ignored);
  EXPECT_EQ(ignored->tenths, 0);
  EXPECT_EQ(ignored->utc_offset_quarters, 0);
  EXPECT_EQ(format_time(*ignored), "000001000000000R");
}

TEST(SmppTime, RejectsOutOfRangeAbsoluteFields) {
  const std::vector<std::string> bad = {
      "231315000000000+",   // month 13
      "230015000000000+",   // month 0
      "230100000000000+",   // day 0
      "230132000000000+",   // January 32
      "230431000000000+",   // April 31
      "230229000000000+",   // 2023 is not a leap year
      "230115240000000+",   // hour 24
      "230115126000000+",   // minute 60
      "230115120060000+",   // second 60
      "230115120000049+",   // nn 49 > 48
      "230115120000099-",   // nn 99
      "230115120000000x",   // bad p
      "230115120000000r",   // p is case-sensitive
      "230115120000000 ",   // no p
      "23011512000000+",    // 15 characters
      "2301151200000000+",  // 17 characters
      "",                   // NULL is not a time (valid_time_field allows it)
      "23011512000A000+",   // letter in seconds
      "2301151200 0000+",   // space
      "23-1151200000000",   // sign in the wrong place
      "230115120000/00+",   // tenths not a digit
      "23011512000000+0",   // p before nn
  };
  for (const std::string& s : bad) EXPECT_FALSE(parse_time(s)) << '"' << s << '"';
}

TEST(SmppTime, AcceptsBoundaryValues) {
  EXPECT_TRUE(parse_time("000229000000000+"));  // 2000 is a leap year
  EXPECT_TRUE(parse_time("240229235959948-"));  // 2024 is a leap year, nn 48
  EXPECT_TRUE(parse_time("991231235959948+"));
  EXPECT_TRUE(parse_time("230131000000000+"));
  EXPECT_TRUE(parse_time("230430000000000+"));
  EXPECT_TRUE(parse_time("000000000000000R"));
}

TEST(SmppTime, ValidTimeField) {
  EXPECT_TRUE(valid_time_field(""));
  EXPECT_TRUE(valid_time_field("230115120000000+"));
  EXPECT_TRUE(valid_time_field("000001000000000R"));
  EXPECT_FALSE(valid_time_field("2301151200"));
  EXPECT_FALSE(valid_time_field("231315120000000+"));
}

TEST(SmppTime, FormatIsTheInverseOfParse) {
  for (const char* s : {"230115123045704+", "991231235959920-", "000229000000000+",
                        "010203040506000R", "240229235959948-", "230101000000000+"}) {
    auto t = parse_time(s);
    ASSERT_TRUE(t) << s;
    EXPECT_EQ(format_time(*t), s);
  }
  SmppTime t;
  t.year = 5;
  t.month = 6;
  t.day = 7;
  t.hour = 8;
  t.minute = 9;
  t.second = 1;
  t.tenths = 2;
  t.utc_offset_quarters = -3;
  EXPECT_EQ(format_time(t), "050607080901203-");
  EXPECT_EQ(parse_time(format_time(t)), t);
}

TEST(SmppTime, UnixSecondsWithQuarterHourOffsets) {
  // 2023-01-15 12:30:00 UTC = 1673785800.
  EXPECT_EQ(parse_time("230115123000000+")->to_unix_seconds(), 1673785800);
  // Local 13:30 at +1h (4 quarters) is 12:30 UTC.
  EXPECT_EQ(parse_time("230115133000004+")->to_unix_seconds(), 1673785800);
  // Local 08:00 at -4h30 (18 quarters) is 12:30 UTC.
  EXPECT_EQ(parse_time("230115080000018-")->to_unix_seconds(), 1673785800);
  // Local 00:15 on the 16th at +11h45 (47 quarters) is 12:30 UTC on the 15th.
  EXPECT_EQ(parse_time("230116001500047+")->to_unix_seconds(), 1673785800);
  // +12h (48 quarters): the day before in UTC.
  EXPECT_EQ(parse_time("230101000000048+")->to_unix_seconds(), 1672531200 - 12 * 3600);
  // Tenths do not change the second.
  EXPECT_EQ(parse_time("230115123000900+")->to_unix_seconds(), 1673785800);
  // The epoch of the two-digit years, and a leap day.
  EXPECT_EQ(parse_time("000101000000000+")->to_unix_seconds(), 946684800);
  EXPECT_EQ(parse_time("240229000000000+")->to_unix_seconds(), 1709164800);
  EXPECT_EQ(parse_time("240301000000000+")->to_unix_seconds(), 1709164800 + 86400);
}

TEST(SmppTime, FromUnixSeconds) {
  const SmppTime t = SmppTime::from_unix_seconds(1673785845, 3);
  EXPECT_EQ(format_time(t), "230115123045300+");
  EXPECT_EQ(t.to_unix_seconds(), 1673785845);
  EXPECT_EQ(format_time(SmppTime::from_unix_seconds(1709164800 + 86399)), "240229235959000+");
  EXPECT_EQ(format_time(SmppTime::from_unix_seconds(946684800)), "000101000000000+");
  // Round trip over a spread of instants in 2000-2099.
  for (int64_t s = 946684800; s < 4102444800; s += 7777777) {
    EXPECT_EQ(SmppTime::from_unix_seconds(s).to_unix_seconds(), s);
    EXPECT_TRUE(parse_time(format_time(SmppTime::from_unix_seconds(s))));
  }
}

TEST(SmppTime, RelativeDurations) {
  EXPECT_EQ(parse_time("000000000001000R")->to_duration_seconds(), 1);
  EXPECT_EQ(parse_time("000000000100000R")->to_duration_seconds(), 60);
  EXPECT_EQ(parse_time("000000010000000R")->to_duration_seconds(), 3600);
  EXPECT_EQ(parse_time("000001000000000R")->to_duration_seconds(), 86400);
  EXPECT_EQ(parse_time("000100000000000R")->to_duration_seconds(), 30 * 86400);
  EXPECT_EQ(parse_time("010000000000000R")->to_duration_seconds(), 365 * 86400);
  EXPECT_EQ(parse_time("000007000000000R")->to_duration_seconds(), 7 * 86400);
  EXPECT_EQ(parse_time("010203040506000R")->to_duration_seconds(),
            ((365 + 2 * 30 + 3) * 24 + 4) * 3600 + 5 * 60 + 6);
}

TEST(SmppTime, RelativeFromSeconds) {
  EXPECT_EQ(format_time(SmppTime::relative_seconds(0)), "000000000000000R");
  EXPECT_EQ(format_time(SmppTime::relative_seconds(-5)), "000000000000000R");
  EXPECT_EQ(format_time(SmppTime::relative_seconds(90061)), "000001010101000R");
  EXPECT_EQ(format_time(SmppTime::relative_seconds(99 * 86400)), "000099000000000R");
  EXPECT_EQ(format_time(SmppTime::relative_seconds(100 * 86400)), "000310000000000R");
}

TEST(SmppTime, RelativeSecondsRoundTripsThroughDuration) {
  // What relative_seconds writes must mean the same length to to_duration_seconds, or a
  // validity period of 400 days would come back as 405.
  for (int64_t days : {0, 1, 99, 100, 364, 365, 366, 400, 730, 1000, 3650, 36000}) {
    const int64_t s = days * 86400 + 3661;
    const SmppTime t = SmppTime::relative_seconds(s);
    EXPECT_EQ(t.to_duration_seconds(), s) << days << " days -> " << format_time(t);
    EXPECT_TRUE(parse_time(format_time(t))) << format_time(t);
  }
}
