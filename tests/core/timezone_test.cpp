#include "core/timezone.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace smppd;
using namespace std::chrono;

namespace {

// "2026-03-29T01:00:00" (UTC) as an instant.
sys_seconds at(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
  return sys_days(year{y} / month{mo} / day{d}) + hours(h) + minutes(mi) + seconds(s);
}

TimeZone zone(std::string_view name) {
  std::string error;
  auto z = TimeZone::load(name, &error);
  EXPECT_TRUE(z.has_value()) << name << ": " << error;
  return z ? *z : TimeZone::utc();
}

long offset(const TimeZone& z, sys_seconds t) {
  return static_cast<long>(z.offset_at(t).count());
}

PosixTimeZone posix(std::string_view text) {
  auto tz = PosixTimeZone::parse(text);
  EXPECT_TRUE(tz.has_value()) << text;
  return tz.value_or(PosixTimeZone{});
}

}  // namespace

TEST(TimeZone, LisbonOnBothSidesOfItsTransitions) {
  auto z = zone("Europe/Lisbon");
  EXPECT_EQ(z.name(), "Europe/Lisbon");
  EXPECT_EQ(offset(z, at(2026, 1, 15, 12)), 0);
  // Last Sunday of March at 01:00 UTC, last Sunday of October at 01:00 UTC.
  EXPECT_EQ(offset(z, at(2026, 3, 29, 0, 59, 59)), 0);
  EXPECT_EQ(offset(z, at(2026, 3, 29, 1, 0, 0)), 3600);
  EXPECT_EQ(offset(z, at(2026, 7, 15, 12)), 3600);
  EXPECT_EQ(offset(z, at(2026, 10, 25, 0, 59, 59)), 3600);
  EXPECT_EQ(offset(z, at(2026, 10, 25, 1, 0, 0)), 0);
  // Portugal kept Central European Time from 1992 to 1996: the transition table, not a rule.
  EXPECT_EQ(offset(z, at(1993, 1, 15)), 3600);
  EXPECT_EQ(offset(z, at(1993, 7, 15)), 7200);
}

TEST(TimeZone, NewYorkOnBothSidesOfItsTransitions) {
  auto z = zone("America/New_York");
  // Second Sunday of March 02:00 EST = 07:00 UTC; first Sunday of November 02:00 EDT = 06:00 UTC.
  EXPECT_EQ(offset(z, at(2026, 3, 8, 6, 59, 59)), -5 * 3600);
  EXPECT_EQ(offset(z, at(2026, 3, 8, 7, 0, 0)), -4 * 3600);
  EXPECT_EQ(offset(z, at(2026, 11, 1, 5, 59, 59)), -4 * 3600);
  EXPECT_EQ(offset(z, at(2026, 11, 1, 6, 0, 0)), -5 * 3600);
  // Past every transition in the file: the footer's rule.
  EXPECT_EQ(offset(z, at(2100, 1, 15)), -5 * 3600);
  EXPECT_EQ(offset(z, at(2100, 7, 15)), -4 * 3600);
  // Before 1883 every zone is local mean time.
  EXPECT_EQ(offset(z, at(1850, 1, 1)), -(4 * 3600 + 56 * 60 + 2));
}

TEST(TimeZone, SouthernHemisphereAndOddOffsets) {
  auto sydney = zone("Australia/Sydney");
  EXPECT_EQ(offset(sydney, at(2026, 1, 15)), 11 * 3600);
  EXPECT_EQ(offset(sydney, at(2026, 7, 15)), 10 * 3600);
  EXPECT_EQ(offset(sydney, at(2100, 1, 15)), 11 * 3600);
  EXPECT_EQ(offset(sydney, at(2100, 7, 15)), 10 * 3600);
  EXPECT_EQ(offset(sydney, at(2099, 12, 31, 23, 59, 59)), 11 * 3600);  // across the new year
  auto kathmandu = zone("Asia/Kathmandu");
  EXPECT_EQ(offset(kathmandu, at(2026, 6, 1)), 5 * 3600 + 45 * 60);
  EXPECT_EQ(offset(kathmandu, at(1980, 6, 1)), 5 * 3600 + 30 * 60);
  EXPECT_EQ(offset(zone("Africa/Maputo"), at(2026, 11, 27, 14)), 2 * 3600);
  EXPECT_EQ(offset(zone("Etc/GMT+5"), at(2026, 11, 27)), -5 * 3600);  // POSIX sign convention
  EXPECT_EQ(offset(zone("UTC"), at(2026, 11, 27)), 0);
  EXPECT_EQ(offset(TimeZone::utc(), at(2026, 11, 27)), 0);
}

TEST(TimeZone, UnknownAndUnsafeNamesAreRefused) {
  std::string error;
  EXPECT_FALSE(TimeZone::load("Mars/Olympus_Mons", &error));
  EXPECT_NE(error.find("unknown time zone 'Mars/Olympus_Mons'"), std::string::npos) << error;
  EXPECT_FALSE(TimeZone::load("../../etc/passwd", &error));
  EXPECT_NE(error.find("not a time zone name"), std::string::npos) << error;
  EXPECT_FALSE(TimeZone::load("/etc/localtime", &error));
  EXPECT_FALSE(TimeZone::load("", &error));
  EXPECT_FALSE(TimeZone::load("Europe", &error));        // a directory
  EXPECT_FALSE(TimeZone::load("zone1970.tab", &error));  // a file, but no TZif
  EXPECT_NE(error.find("not a TZif file"), std::string::npos) << error;
}

TEST(TimeZone, DamagedFilesAreRefused) {
  std::ifstream in(TimeZone::directory() / "Europe/Lisbon", std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  const std::string good = bytes.str();
  ASSERT_GT(good.size(), 100u);
  std::string error;
  EXPECT_TRUE(TimeZone::parse("Lisbon", good, &error)) << error;
  for (std::size_t cut : {std::size_t{10}, std::size_t{60}, good.size() / 2, good.size() - 3}) {
    EXPECT_FALSE(TimeZone::parse("Lisbon", std::string_view(good).substr(0, cut), &error)) << cut;
  }
  std::string bad_footer = good;
  bad_footer.replace(bad_footer.rfind("WET0WEST"), 8, "WET0WES!");
  EXPECT_FALSE(TimeZone::parse("Lisbon", bad_footer, &error));
  EXPECT_NE(error.find("footer"), std::string::npos) << error;
  EXPECT_FALSE(TimeZone::parse("x", "TZif2 not really", &error));
}

TEST(PosixTimeZone, ParsesTheForms) {
  auto ny = posix("EST5EDT,M3.2.0,M11.1.0");
  EXPECT_EQ(ny.std_offset, -5 * 3600);
  EXPECT_TRUE(ny.has_dst);
  EXPECT_EQ(ny.dst_offset, -4 * 3600);
  EXPECT_EQ(ny.dst_start.month, 3);
  EXPECT_EQ(ny.dst_start.week, 2);
  EXPECT_EQ(ny.dst_start.time, 2 * 3600);
  auto kathmandu = posix("<+0545>-5:45");
  EXPECT_EQ(kathmandu.std_offset, 5 * 3600 + 45 * 60);
  EXPECT_FALSE(kathmandu.has_dst);
  auto lisbon = posix("WET0WEST,M3.5.0/1,M10.5.0");
  EXPECT_EQ(lisbon.dst_start.time, 3600);
  EXPECT_EQ(posix("XXX3YYY2,J60/0,300").dst_offset, -2 * 3600);
  for (std::string_view bad : {"", "EST", "5EST", "ES5", "EST5EDT,M13.1.0,M11.1.0",
                               "EST5EDT,M3.6.0,M11.1.0", "EST5EDT,M3.2.7,M11.1.0", "EST5EDT,M3.2.0",
                               "EST5EDT,J0,J365", "EST5EDT,M3.2.0,M11.1.0x", "EST25", "<AB>5"}) {
    EXPECT_FALSE(PosixTimeZone::parse(bad)) << bad;
  }
}

TEST(PosixTimeZone, OffsetsFromTheRule) {
  auto ny = posix("EST5EDT,M3.2.0,M11.1.0");
  auto t = [](sys_seconds s) { return s.time_since_epoch().count(); };
  EXPECT_EQ(ny.offset_at(t(at(2030, 3, 10, 6, 59, 59))), -5 * 3600);
  EXPECT_EQ(ny.offset_at(t(at(2030, 3, 10, 7))), -4 * 3600);
  EXPECT_EQ(ny.offset_at(t(at(2030, 11, 3, 5, 59, 59))), -4 * 3600);
  EXPECT_EQ(ny.offset_at(t(at(2030, 11, 3, 6))), -5 * 3600);
  // Southern hemisphere: daylight time spans the new year.
  auto sydney = posix("AEST-10AEDT,M10.1.0,M4.1.0/3");
  EXPECT_EQ(sydney.offset_at(t(at(2031, 1, 1))), 11 * 3600);
  EXPECT_EQ(sydney.offset_at(t(at(2031, 6, 1))), 10 * 3600);
  // First Sunday of April 2031 is the 6th: 03:00 AEDT = 16:00 UTC the day before.
  EXPECT_EQ(sydney.offset_at(t(at(2031, 4, 5, 15, 59, 59))), 11 * 3600);
  EXPECT_EQ(sydney.offset_at(t(at(2031, 4, 5, 16))), 10 * 3600);
  // Transition times outside 0-24h (RFC 8536 version 3): Greenland changes with the EU, at
  // 01:00 UTC, written as -2:00 and -1:00 local.
  auto nuuk = posix("<-02>2<-01>,M3.5.0/-1,M10.5.0/0");
  EXPECT_EQ(nuuk.offset_at(t(at(2030, 3, 31, 0, 59, 59))), -2 * 3600);
  EXPECT_EQ(nuuk.offset_at(t(at(2030, 3, 31, 1))), -1 * 3600);
  EXPECT_EQ(nuuk.offset_at(t(at(2030, 10, 27, 0, 59, 59))), -1 * 3600);
  EXPECT_EQ(nuuk.offset_at(t(at(2030, 10, 27, 1))), -2 * 3600);
  // Julian days: Jn never counts February 29, n does. 2028 is a leap year.
  auto j = posix("AAA0BBB,J60/0,J300/0");  // March 1
  EXPECT_EQ(j.offset_at(t(at(2028, 2, 29, 23, 59, 59))), 0);
  EXPECT_EQ(j.offset_at(t(at(2028, 3, 1))), 3600);
  auto n = posix("AAA0BBB,59/0,J300/0");  // the 60th day: February 29 in a leap year
  EXPECT_EQ(n.offset_at(t(at(2028, 2, 28, 23, 59, 59))), 0);
  EXPECT_EQ(n.offset_at(t(at(2028, 2, 29))), 3600);
  EXPECT_EQ(n.offset_at(t(at(2027, 2, 28, 23, 59, 59))), 0);
  EXPECT_EQ(n.offset_at(t(at(2027, 3, 1))), 3600);
}
