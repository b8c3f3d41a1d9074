// IANA time zones without std::chrono::tzdb (which GCC 12's libstdc++ lacks): a reader of the
// compiled TZif files (RFC 8536) under /usr/share/zoneinfo (Debian package tzdata) that answers
// one question, the UTC offset in effect at an instant. Load a zone once (start-up, config load)
// and keep it: offset_at() allocates nothing and does not touch the file system.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace smppd {

// The rule of a POSIX TZ string ("CET-1CEST,M3.5.0,M10.5.0/3"), as found in the footer of a TZif
// file of version 2 or later; it gives the offsets after the file's last transition.
struct PosixTimeZone {
  // The day of a transition: Mm.w.d (month 1-12, week 1-5 where 5 is the last, weekday 0-6 from
  // Sunday), Jn (1-365, February 29 never counted) or n (0-365, counting February 29).
  struct Date {
    enum class Kind { month_week_day, julian_no_leap, julian_zero };
    Kind kind = Kind::month_week_day;
    int month = 0;
    int week = 0;
    int weekday = 0;
    int day = 0;              // for the two julian kinds
    int32_t time = 2 * 3600;  // seconds after local midnight; may be negative or past 24h
  };
  int32_t std_offset = 0;  // seconds east of UTC (POSIX writes them west: "EST5" is -5h)
  bool has_dst = false;
  int32_t dst_offset = 0;
  Date dst_start;
  Date dst_end;

  // Nothing when the text is not a valid TZ string.
  static std::optional<PosixTimeZone> parse(std::string_view text);
  int32_t offset_at(int64_t unix_seconds) const;
};

class TimeZone {
 public:
  // The zone called `name` ("Africa/Maputo") from directory(); "UTC" and "Etc/UTC" also work
  // without tzdata. Nothing, with the reason in *error, for an unknown name or a bad file.
  static std::optional<TimeZone> load(std::string_view name, std::string* error = nullptr);
  // A zone from the bytes of a TZif file (versions 1 to 4).
  static std::optional<TimeZone> parse(std::string name, std::string_view tzif,
                                       std::string* error = nullptr);
  static TimeZone utc();
  // $TZDIR when set, else /usr/share/zoneinfo.
  static std::filesystem::path directory();

  // Seconds east of UTC in effect at `t` (leap seconds are ignored, as POSIX time does).
  std::chrono::seconds offset_at(std::chrono::sys_seconds t) const;
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::vector<int64_t> transitions_;       // ascending Unix times
  std::vector<uint8_t> transition_types_;  // index into type_offsets_, one per transition
  std::vector<int32_t> type_offsets_;      // at least one; type 0 applies before the first
  std::optional<PosixTimeZone> footer_;    // after the last transition
};

}  // namespace smppd
