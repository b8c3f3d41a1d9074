#include "core/instant.hpp"

#include <charconv>
#include <cstdio>

namespace smppd {

namespace {

using namespace std::chrono;

std::optional<int> digits(std::string_view& text, std::size_t n) {
  if (text.size() < n) return std::nullopt;
  for (std::size_t i = 0; i < n; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;  // from_chars takes a '-'
  }
  int value = 0;
  std::from_chars(text.data(), text.data() + n, value);
  text.remove_prefix(n);
  return value;
}

bool take(std::string_view& text, char c) {
  if (text.empty() || text.front() != c) return false;
  text.remove_prefix(1);
  return true;
}

// "YYYY-MM-DD" at the front of `text`, taken off it.
std::optional<sys_days> take_date(std::string_view& text) {
  auto y = digits(text, 4);
  if (!y || !take(text, '-')) return std::nullopt;
  auto mo = digits(text, 2);
  if (!mo || !take(text, '-')) return std::nullopt;
  auto d = digits(text, 2);
  if (!d) return std::nullopt;
  const year_month_day date{year{*y}, month{static_cast<unsigned>(*mo)},
                            day{static_cast<unsigned>(*d)}};
  if (!date.ok()) return std::nullopt;
  return sys_days(date);
}

}  // namespace

std::optional<sys_days> parse_date(std::string_view text) {
  auto date = take_date(text);
  if (!date || !text.empty()) return std::nullopt;
  return date;
}

std::optional<UtcMillis> parse_instant(std::string_view text) {
  auto date = take_date(text);
  if (!date || !(take(text, 'T') || take(text, ' '))) return std::nullopt;
  auto h = digits(text, 2);
  if (!h || !take(text, ':')) return std::nullopt;
  auto mi = digits(text, 2);
  if (!mi) return std::nullopt;
  int s = 0;
  int ms = 0;
  if (take(text, ':')) {
    auto sec = digits(text, 2);
    if (!sec) return std::nullopt;
    s = *sec;
    if (take(text, '.') || take(text, ',')) {
      int n = 0;
      for (; n < 9 && !text.empty() && text.front() >= '0' && text.front() <= '9'; ++n) {
        if (n < 3) ms = ms * 10 + (text.front() - '0');
        text.remove_prefix(1);
      }
      if (n == 0) return std::nullopt;
      for (int i = n; i < 3; ++i) ms *= 10;
    }
  }
  int offset = 0;
  if (!take(text, 'Z')) {
    const int sign = take(text, '+') ? 1 : take(text, '-') ? -1 : 0;
    if (sign == 0) return std::nullopt;
    auto oh = digits(text, 2);
    if (!oh || !take(text, ':')) return std::nullopt;
    auto om = digits(text, 2);
    if (!om || *oh > 23 || *om > 59) return std::nullopt;
    offset = sign * (*oh * 3600 + *om * 60);
  }
  if (!text.empty() || *h > 23 || *mi > 59 || s > 59) return std::nullopt;
  return UtcMillis(*date) + hours(*h) + minutes(*mi) + seconds(s) + milliseconds(ms) -
         seconds(offset);
}

void append_instant(UtcMillis t, bool with_millis, std::string& out) {
  const auto day_start = floor<days>(t);
  const year_month_day date(day_start);
  const hh_mm_ss time(t - day_start);
  char text[40];
  int n = std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02d",
                        static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                        static_cast<unsigned>(date.day()), static_cast<int>(time.hours().count()),
                        static_cast<int>(time.minutes().count()),
                        static_cast<int>(time.seconds().count()));
  if (with_millis) {
    n += std::snprintf(text + n, sizeof text - static_cast<std::size_t>(n), ".%03d",
                       static_cast<int>(time.subseconds().count()));
  }
  out.append(text, static_cast<std::size_t>(n));
  out.push_back('Z');
}

std::string format_instant(UtcMillis t, bool with_millis) {
  std::string out;
  append_instant(t, with_millis, out);
  return out;
}

}  // namespace smppd
