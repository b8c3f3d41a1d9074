// SMPP time fields (3.4 §7.1.1): "YYMMDDhhmmsstnnp", absolute (p = '+' or '-', nn quarter hours
// from UTC) or relative (p = 'R'), or empty (NULL: "immediately" / "SMSC default").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace smpp {

struct SmppTime {
  enum class Kind : uint8_t { absolute, relative };
  Kind kind = Kind::absolute;
  // Absolute: calendar fields of the local time. Relative: counts of each unit.
  uint8_t year = 0;  // two digits, 00-99 (absolute: 20YY)
  uint8_t month = 0;
  uint8_t day = 0;
  uint8_t hour = 0;
  uint8_t minute = 0;
  uint8_t second = 0;
  uint8_t tenths = 0;
  // Absolute only: offset of the local time from UTC in quarter hours, -48..48.
  int8_t utc_offset_quarters = 0;

  friend bool operator==(const SmppTime&, const SmppTime&) = default;

  // Seconds since the Unix epoch (absolute) — the instant it names.
  int64_t to_unix_seconds() const;
  // Length in seconds (relative), with months of 30 days and years of 365 days.
  int64_t to_duration_seconds() const;
  // An absolute time in UTC (nn = 00, '+') for this Unix instant.
  static SmppTime from_unix_seconds(int64_t unix_seconds, uint8_t tenths = 0);
  // A relative time of this many seconds (carried into days, hours, minutes, seconds; days
  // beyond 99 carried into years of 365 days, then months of 30 days, the units of
  // to_duration_seconds(); saturates at 99 years).
  static SmppTime relative_seconds(int64_t seconds);
};

// Parses a 16-character time. Empty when malformed or out of range (month 13, hour 24, nn > 48,
// a relative time with t/nn not zero is tolerated as the spec says they are ignored).
std::optional<SmppTime> parse_time(std::string_view text);

// True when `text` is empty (NULL) or a valid time.
bool valid_time_field(std::string_view text);

// The 16-character form.
std::string format_time(const SmppTime& t);

}  // namespace smpp
