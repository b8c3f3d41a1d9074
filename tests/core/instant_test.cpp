// ISO 8601 instants and dates as operators type them (`--at`, `--from`, `--to`) and as CDRs
// write them.
#include "core/instant.hpp"

#include <gtest/gtest.h>

namespace smppd {
namespace {

using namespace std::chrono;

UtcMillis at(int y, unsigned mo, unsigned d, int h, int mi, int s, int ms = 0) {
  return UtcMillis(sys_days(year{y} / mo / d)) + hours(h) + minutes(mi) + seconds(s) +
         milliseconds(ms);
}

TEST(Instant, ParsesTheFormsOperatorsWrite) {
  EXPECT_EQ(parse_instant("2026-11-27T14:00:00Z"), at(2026, 11, 27, 14, 0, 0));
  EXPECT_EQ(parse_instant("2026-11-27 14:00:00Z"), at(2026, 11, 27, 14, 0, 0));
  EXPECT_EQ(parse_instant("2026-11-27T14:05Z"), at(2026, 11, 27, 14, 5, 0));
  EXPECT_EQ(parse_instant("2026-11-27T16:00:00+02:00"), at(2026, 11, 27, 14, 0, 0));
  EXPECT_EQ(parse_instant("2026-11-27T01:30-03:30"), at(2026, 11, 27, 5, 0, 0));
  EXPECT_EQ(parse_instant("2025-12-31T23:30:00-01:00"), at(2026, 1, 1, 0, 30, 0));
}

TEST(Instant, FractionsAreKeptToTheMillisecond) {
  EXPECT_EQ(parse_instant("2026-12-07T10:00:00.123Z"), at(2026, 12, 7, 10, 0, 0, 123));
  EXPECT_EQ(parse_instant("2026-12-07T10:00:00.5Z"), at(2026, 12, 7, 10, 0, 0, 500));
  EXPECT_EQ(parse_instant("2026-12-07T10:00:00,25Z"), at(2026, 12, 7, 10, 0, 0, 250));
  EXPECT_EQ(parse_instant("2026-12-07T10:00:00.123999999Z"), at(2026, 12, 7, 10, 0, 0, 123));
}

TEST(Instant, RefusesWhatIsNotAnInstant) {
  for (const char* text :
       {"", "yesterday", "2026-11-27", "2026-11-27T14:00:00", "2026-11-27T14Z",
        "2026-11-27T14:00:00.Z", "2026-11-27T14:00:00.1234567890Z", "2026-02-30T00:00:00Z",
        "2026-13-01T00:00:00Z", "2026-11-27T24:00:00Z", "2026-11-27T23:60:00Z",
        "2026-11-27T23:59:60Z", "2026-11-27T14:00:00+0200", "2026-11-27T14:00:00+24:00",
        "2026-1-27T14:00:00Z", "-026-11-27T14:00:00Z", "2026-11-27T14:00:00Z ",
        "2026-11-27T-1:00:00Z", "2026-11-27T14:00:00ZZ"}) {
    EXPECT_FALSE(parse_instant(text)) << text;
  }
}

TEST(Instant, Dates) {
  EXPECT_EQ(parse_date("2025-12-01"), sys_days(year{2025} / 12 / 1));
  EXPECT_EQ(parse_date("2024-02-29"), sys_days(year{2024} / 2 / 29));
  for (const char* text : {"", "2025-02-29", "2025-12-32", "2025-00-10", "2025-12-1", "25-12-01",
                           "2025/12/01", "2025-12-01T00:00:00Z", "2025-12-01 "}) {
    EXPECT_FALSE(parse_date(text)) << text;
  }
}

TEST(Instant, Formats) {
  EXPECT_EQ(format_instant(at(2026, 12, 7, 10, 0, 0, 123), true), "2026-12-07T10:00:00.123Z");
  EXPECT_EQ(format_instant(at(2026, 12, 7, 10, 0, 0, 5), true), "2026-12-07T10:00:00.005Z");
  EXPECT_EQ(format_instant(at(2026, 12, 7, 10, 0, 0, 999), false), "2026-12-07T10:00:00Z");
  EXPECT_EQ(format_instant(UtcMillis(milliseconds(0)), true), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_instant(UtcMillis(milliseconds(-1)), true), "1969-12-31T23:59:59.999Z");
  const auto t = at(2024, 2, 29, 23, 59, 59, 999);
  EXPECT_EQ(parse_instant(format_instant(t, true)), t);
}

}  // namespace
}  // namespace smppd
