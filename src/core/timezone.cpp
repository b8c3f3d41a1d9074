#include "core/timezone.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>

namespace smppd {

namespace {

using namespace std::chrono;

// ---- POSIX TZ strings ----

// A cursor over a TZ string.
struct TzReader {
  std::string_view text;
  std::size_t pos = 0;

  bool done() const { return pos >= text.size(); }
  char peek() const { return done() ? '\0' : text[pos]; }
  bool take(char c) {
    if (peek() != c) return false;
    ++pos;
    return true;
  }

  // A zone abbreviation: three or more letters, or <...> with letters, digits, '+' and '-'.
  bool name() {
    std::size_t start = pos;
    if (take('<')) {
      while (!done() && peek() != '>') {
        char c = peek();
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '+' || c == '-';
        if (!ok) return false;
        ++pos;
      }
      if (!take('>')) return false;
      return pos - start - 2 >= 3;
    }
    while (!done() && ((peek() >= 'A' && peek() <= 'Z') || (peek() >= 'a' && peek() <= 'z'))) ++pos;
    return pos - start >= 3;
  }

  std::optional<int> number(int max_digits) {
    int value = 0;
    int digits = 0;
    while (!done() && peek() >= '0' && peek() <= '9' && digits < max_digits) {
      value = value * 10 + (peek() - '0');
      ++pos;
      ++digits;
    }
    if (digits == 0) return std::nullopt;
    return value;
  }

  // [+-]hh[:mm[:ss]] in seconds; hours up to max_hours.
  std::optional<int32_t> hms(int max_hours) {
    int sign = 1;
    if (take('-'))
      sign = -1;
    else
      take('+');
    auto h = number(3);
    if (!h || *h > max_hours) return std::nullopt;
    int32_t total = *h * 3600;
    if (take(':')) {
      auto m = number(2);
      if (!m || *m > 59) return std::nullopt;
      total += *m * 60;
      if (take(':')) {
        auto s = number(2);
        if (!s || *s > 59) return std::nullopt;
        total += *s;
      }
    }
    return sign * total;
  }

  std::optional<PosixTimeZone::Date> date() {
    using Kind = PosixTimeZone::Date::Kind;
    PosixTimeZone::Date d;
    if (take('M')) {
      auto m = number(2);
      if (!m || *m < 1 || *m > 12 || !take('.')) return std::nullopt;
      auto w = number(1);
      if (!w || *w < 1 || *w > 5 || !take('.')) return std::nullopt;
      auto wd = number(1);
      if (!wd || *wd > 6) return std::nullopt;
      d.kind = Kind::month_week_day;
      d.month = *m;
      d.week = *w;
      d.weekday = *wd;
    } else if (take('J')) {
      auto n = number(3);
      if (!n || *n < 1 || *n > 365) return std::nullopt;
      d.kind = Kind::julian_no_leap;
      d.day = *n;
    } else {
      auto n = number(3);
      if (!n || *n > 365) return std::nullopt;
      d.kind = Kind::julian_zero;
      d.day = *n;
    }
    if (take('/')) {
      // RFC 8536 (version 3) allows -167 to 167 hours here.
      auto t = hms(167);
      if (!t) return std::nullopt;
      d.time = *t;
    }
    return d;
  }
};

// Local midnight (as if UTC) of the rule's day in `y`, in seconds.
int64_t day_start(const PosixTimeZone::Date& d, int y) {
  using Kind = PosixTimeZone::Date::Kind;
  const year yr{y};
  sys_days day;
  switch (d.kind) {
    case Kind::month_week_day: {
      const month m{static_cast<unsigned>(d.month)};
      const weekday wd{static_cast<unsigned>(d.weekday)};
      if (d.week == 5)
        day = sys_days(yr / m / weekday_last(wd));
      else
        day = sys_days(yr / m / weekday_indexed(wd, static_cast<unsigned>(d.week)));
      break;
    }
    case Kind::julian_no_leap:
      day = sys_days(yr / January / 1) + days(d.day - 1 + (yr.is_leap() && d.day >= 60 ? 1 : 0));
      break;
    case Kind::julian_zero:
      day = sys_days(yr / January / 1) + days(d.day);
      break;
  }
  return duration_cast<seconds>(day.time_since_epoch()).count();
}

// ---- TZif ----

uint32_t be32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

uint64_t be64(const unsigned char* p) {
  return (uint64_t{be32(p)} << 32) | be32(p + 4);
}

struct Header {
  char version = 0;
  uint32_t isutcnt = 0, isstdcnt = 0, leapcnt = 0, timecnt = 0, typecnt = 0, charcnt = 0;

  // The size of the data block after this header, with `time_size`-octet times.
  uint64_t data_size(uint64_t time_size) const {
    return uint64_t{timecnt} * time_size + timecnt + uint64_t{typecnt} * 6 + charcnt +
           uint64_t{leapcnt} * (time_size + 4) + isstdcnt + isutcnt;
  }
};

constexpr std::size_t kHeaderSize = 44;
constexpr std::size_t kMaxTzifSize = 1 << 20;  // real files are a few KiB

std::optional<Header> read_header(std::string_view bytes, std::size_t at) {
  if (bytes.size() < at + kHeaderSize || bytes.substr(at, 4) != "TZif") return std::nullopt;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + at);
  Header h;
  h.version = static_cast<char>(p[4]);
  h.isutcnt = be32(p + 20);
  h.isstdcnt = be32(p + 24);
  h.leapcnt = be32(p + 28);
  h.timecnt = be32(p + 32);
  h.typecnt = be32(p + 36);
  h.charcnt = be32(p + 40);
  return h;
}

std::nullopt_t fail(std::string* error, std::string message) {
  if (error) *error = std::move(message);
  return std::nullopt;
}

bool valid_zone_name(std::string_view name) {
  if (name.empty() || name.size() > 255 || name.front() == '/') return false;
  for (char c : name) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '/' || c == '_' || c == '-' || c == '+' || c == '.';
    if (!ok) return false;
  }
  // No way out of the directory.
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t end = std::min(name.find('/', start), name.size());
    std::string_view part = name.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

}  // namespace

std::optional<PosixTimeZone> PosixTimeZone::parse(std::string_view text) {
  TzReader r{text};
  PosixTimeZone tz;
  if (!r.name()) return std::nullopt;
  auto std_west = r.hms(24);
  if (!std_west) return std::nullopt;
  tz.std_offset = -*std_west;
  if (r.done()) return tz;
  if (!r.name()) return std::nullopt;
  tz.has_dst = true;
  tz.dst_offset = tz.std_offset + 3600;
  if (!r.done() && r.peek() != ',') {
    auto dst_west = r.hms(24);
    if (!dst_west) return std::nullopt;
    tz.dst_offset = -*dst_west;
  }
  if (r.done()) {
    // No rule: POSIX leaves it to the implementation; glibc takes the US rule.
    tz.dst_start = {Date::Kind::month_week_day, 3, 2, 0, 0, 2 * 3600};
    tz.dst_end = {Date::Kind::month_week_day, 11, 1, 0, 0, 2 * 3600};
    return tz;
  }
  if (!r.take(',')) return std::nullopt;
  auto start = r.date();
  if (!start || !r.take(',')) return std::nullopt;
  auto end = r.date();
  if (!end || !r.done()) return std::nullopt;
  tz.dst_start = *start;
  tz.dst_end = *end;
  return tz;
}

int32_t PosixTimeZone::offset_at(int64_t unix_seconds) const {
  if (!has_dst) return std_offset;
  // The year as local standard time sees it; the start is written in standard time and the end
  // in daylight time. When the start comes after the end (southern hemisphere), the DST period
  // spans the new year.
  const auto local_day = floor<days>(sys_seconds(seconds(unix_seconds + std_offset)));
  const int y = static_cast<int>(year_month_day(local_day).year());
  const int64_t start = day_start(dst_start, y) + dst_start.time - std_offset;
  const int64_t end = day_start(dst_end, y) + dst_end.time - dst_offset;
  const bool in_dst = start < end ? (unix_seconds >= start && unix_seconds < end)
                                  : !(unix_seconds >= end && unix_seconds < start);
  return in_dst ? dst_offset : std_offset;
}

std::optional<TimeZone> TimeZone::parse(std::string name, std::string_view bytes,
                                        std::string* error) {
  auto first = read_header(bytes, 0);
  if (!first) return fail(error, "not a TZif file");
  std::size_t at = kHeaderSize;
  Header h = *first;
  std::size_t time_size = 4;
  if (h.version >= '2') {
    // Skip the 32-bit block: the 64-bit one after it covers every instant.
    const uint64_t v1 = h.data_size(4);
    if (v1 > bytes.size() - at) return fail(error, "truncated TZif file");
    at += v1;
    auto second = read_header(bytes, at);
    if (!second) return fail(error, "truncated TZif file (no 64-bit header)");
    h = *second;
    at += kHeaderSize;
    time_size = 8;
  }
  if (h.typecnt == 0 || h.typecnt > 256) return fail(error, "invalid TZif file (time type count)");
  if (h.data_size(time_size) > bytes.size() - at) return fail(error, "truncated TZif file");

  TimeZone tz;
  tz.name_ = std::move(name);
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + at);
  tz.transitions_.reserve(h.timecnt);
  for (uint32_t i = 0; i < h.timecnt; ++i) {
    const int64_t t = time_size == 8 ? static_cast<int64_t>(be64(p + i * 8))
                                     : static_cast<int64_t>(static_cast<int32_t>(be32(p + i * 4)));
    if (!tz.transitions_.empty() && t <= tz.transitions_.back())
      return fail(error, "invalid TZif file (transitions out of order)");
    tz.transitions_.push_back(t);
  }
  p += std::size_t{h.timecnt} * time_size;
  tz.transition_types_.assign(p, p + h.timecnt);
  for (uint8_t type : tz.transition_types_) {
    if (type >= h.typecnt) return fail(error, "invalid TZif file (transition type out of range)");
  }
  p += h.timecnt;
  for (uint32_t i = 0; i < h.typecnt; ++i) {
    const auto offset = static_cast<int32_t>(be32(p + i * 6));
    if (offset < -25 * 3600 || offset > 26 * 3600)
      return fail(error, "invalid TZif file (UTC offset out of range)");
    tz.type_offsets_.push_back(offset);
  }
  at += h.data_size(time_size);

  if (time_size == 8) {
    // The footer: "\n" TZ "\n"; an empty TZ means no rule after the last transition.
    if (at >= bytes.size() || bytes[at] != '\n')
      return fail(error, "invalid TZif file (no footer)");
    const std::size_t end = bytes.find('\n', at + 1);
    if (end == std::string_view::npos)
      return fail(error, "invalid TZif file (unterminated footer)");
    const std::string_view footer = bytes.substr(at + 1, end - at - 1);
    if (!footer.empty()) {
      tz.footer_ = PosixTimeZone::parse(footer);
      if (!tz.footer_)
        return fail(error, "invalid TZif file (footer '" + std::string(footer) + "')");
    }
  }
  return tz;
}

TimeZone TimeZone::utc() {
  TimeZone tz;
  tz.name_ = "UTC";
  tz.type_offsets_ = {0};
  return tz;
}

std::filesystem::path TimeZone::directory() {
  const char* dir = std::getenv("TZDIR");
  return dir && *dir ? std::filesystem::path(dir) : std::filesystem::path("/usr/share/zoneinfo");
}

std::optional<TimeZone> TimeZone::load(std::string_view name, std::string* error) {
  if (!valid_zone_name(name))
    return fail(error, "'" + std::string(name) + "' is not a time zone name");
  const auto path = directory() / std::string(name);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    if (name == "UTC" || name == "Etc/UTC") return utc();
    return fail(error, "unknown time zone '" + std::string(name) + "' (no " + path.string() + ")");
  }
  const auto size = std::filesystem::file_size(path, ec);
  if (ec || size == 0 || size > kMaxTzifSize)
    return fail(error, "cannot read time zone file " + path.string());
  std::ifstream in(path, std::ios::binary);
  std::string bytes(static_cast<std::size_t>(size), '\0');
  if (!in.read(bytes.data(), static_cast<std::streamsize>(size)))
    return fail(error, "cannot read time zone file " + path.string());
  std::string why;
  auto tz = parse(std::string(name), bytes, &why);
  if (!tz) return fail(error, path.string() + ": " + why);
  return tz;
}

std::chrono::seconds TimeZone::offset_at(std::chrono::sys_seconds t) const {
  const int64_t s = t.time_since_epoch().count();
  if (transitions_.empty() || s >= transitions_.back()) {
    if (footer_) return seconds(footer_->offset_at(s));
    if (transitions_.empty()) return seconds(type_offsets_.front());
    return seconds(type_offsets_[transition_types_.back()]);
  }
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), s);
  if (it == transitions_.begin()) return seconds(type_offsets_.front());
  const auto i = static_cast<std::size_t>(std::distance(transitions_.begin(), it) - 1);
  return seconds(type_offsets_[transition_types_[i]]);
}

}  // namespace smppd
