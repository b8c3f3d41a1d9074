#include "smpp/time.hpp"

namespace smpp {

namespace {
bool two_digits(std::string_view s, std::size_t at, uint8_t& out) {
  const char a = s[at], b = s[at + 1];
  if (a < '0' || a > '9' || b < '0' || b > '9') return false;
  out = static_cast<uint8_t>((a - '0') * 10 + (b - '0'));
  return true;
}

bool leap(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int days_in_month(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : kDays[m - 1];
}

// Days from 1970-01-01 to y-m-d (proleptic Gregorian), after H. Hinnant's algorithm.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}
}  // namespace

std::optional<SmppTime> parse_time(std::string_view s) {
  if (s.size() != 16) return std::nullopt;
  SmppTime t;
  uint8_t nn = 0;
  if (!two_digits(s, 0, t.year) || !two_digits(s, 2, t.month) || !two_digits(s, 4, t.day) ||
      !two_digits(s, 6, t.hour) || !two_digits(s, 8, t.minute) || !two_digits(s, 10, t.second) ||
      !two_digits(s, 13, nn)) {
    return std::nullopt;
  }
  if (s[12] < '0' || s[12] > '9') return std::nullopt;
  t.tenths = static_cast<uint8_t>(s[12] - '0');
  const char p = s[15];
  if (p == 'R') {
    // Counts, not calendar fields: any two digits are allowed. t and nn are ignored.
    t.kind = SmppTime::Kind::relative;
    t.tenths = 0;
    return t;
  }
  if (p != '+' && p != '-') return std::nullopt;
  if (t.month < 1 || t.month > 12 || t.day < 1 || t.day > days_in_month(2000 + t.year, t.month) ||
      t.hour > 23 || t.minute > 59 || t.second > 59 || nn > 48) {
    return std::nullopt;
  }
  t.utc_offset_quarters = static_cast<int8_t>(p == '-' ? -nn : nn);
  return t;
}

bool valid_time_field(std::string_view text) {
  return text.empty() || parse_time(text).has_value();
}

std::string format_time(const SmppTime& t) {
  std::string out(16, '0');
  auto put2 = [&out](std::size_t at, unsigned v) {
    out[at] = static_cast<char>('0' + v / 10 % 10);
    out[at + 1] = static_cast<char>('0' + v % 10);
  };
  put2(0, t.year);
  put2(2, t.month);
  put2(4, t.day);
  put2(6, t.hour);
  put2(8, t.minute);
  put2(10, t.second);
  if (t.kind == SmppTime::Kind::relative) {
    out[15] = 'R';  // t and nn stay "000"
    return out;
  }
  const int q = t.utc_offset_quarters;
  out[12] = static_cast<char>('0' + t.tenths % 10);
  put2(13, static_cast<unsigned>(q < 0 ? -q : q));
  out[15] = q < 0 ? '-' : '+';
  return out;
}

int64_t SmppTime::to_unix_seconds() const {
  const int64_t days = days_from_civil(2000 + year, month, day);
  const int64_t local = days * 86400 + hour * 3600 + minute * 60 + second;
  return local - int64_t{utc_offset_quarters} * 15 * 60;
}

int64_t SmppTime::to_duration_seconds() const {
  return ((int64_t{year} * 365 + int64_t{month} * 30 + day) * 24 + hour) * 3600 + minute * 60 +
         second;
}

SmppTime SmppTime::from_unix_seconds(int64_t unix_seconds, uint8_t tenths_) {
  SmppTime t;
  int64_t days = unix_seconds / 86400;
  int64_t rem = unix_seconds % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  t.year = static_cast<uint8_t>(((y % 100) + 100) % 100);
  t.month = static_cast<uint8_t>(m);
  t.day = static_cast<uint8_t>(d);
  t.hour = static_cast<uint8_t>(rem / 3600);
  t.minute = static_cast<uint8_t>(rem % 3600 / 60);
  t.second = static_cast<uint8_t>(rem % 60);
  t.tenths = static_cast<uint8_t>(tenths_ % 10);
  return t;
}

SmppTime SmppTime::relative_seconds(int64_t seconds) {
  SmppTime t;
  t.kind = Kind::relative;
  if (seconds < 0) seconds = 0;
  t.second = static_cast<uint8_t>(seconds % 60);
  t.minute = static_cast<uint8_t>(seconds / 60 % 60);
  t.hour = static_cast<uint8_t>(seconds / 3600 % 24);
  int64_t days = seconds / 86400;
  int64_t months = 0;
  int64_t years = 0;
  // Carried with the same units to_duration_seconds() reads (years of 365 days, months of 30),
  // so the two are exact inverses up to 99 years.
  if (days > 99) {
    years = days / 365;
    days %= 365;
    months = days / 30;
    days %= 30;
  }
  if (years > 99) years = 99;
  t.day = static_cast<uint8_t>(days);
  t.month = static_cast<uint8_t>(months);
  t.year = static_cast<uint8_t>(years);
  return t;
}

}  // namespace smpp
