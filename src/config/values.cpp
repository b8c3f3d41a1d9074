#include "config/values.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <limits>

namespace smppd::config {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Parses the leading unsigned decimal digits of `s` at `pos`; fails on none or overflow.
std::optional<uint64_t> take_digits(std::string_view s, std::size_t& pos) {
  std::size_t start = pos;
  while (pos < s.size() && is_digit(s[pos])) ++pos;
  if (pos == start) return std::nullopt;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data() + start, s.data() + pos, v);
  if (ec != std::errc{} || p != s.data() + pos) return std::nullopt;
  return v;
}

bool mul_overflows(uint64_t a, uint64_t b) {
  return b != 0 && a > std::numeric_limits<uint64_t>::max() / b;
}

}  // namespace

Parsed<std::chrono::milliseconds> parse_duration(std::string_view text) {
  const std::string bad = "invalid duration '" + std::string(text) +
                          "' (expected a number with a unit: ms, s, m, h, d, e.g. 30s or 1h30m)";
  if (text == "0") return std::chrono::milliseconds{0};
  if (text.empty()) return Invalid{bad};
  std::size_t pos = 0;
  uint64_t total = 0;
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  while (pos < text.size()) {
    auto n = take_digits(text, pos);
    if (!n) return Invalid{bad};
    std::size_t unit_start = pos;
    while (pos < text.size() && std::isalpha(static_cast<unsigned char>(text[pos]))) ++pos;
    std::string_view unit = text.substr(unit_start, pos - unit_start);
    uint64_t scale = 0;
    if (unit == "ms")
      scale = 1;
    else if (unit == "s")
      scale = 1000;
    else if (unit == "m")
      scale = 60'000;
    else if (unit == "h")
      scale = 3'600'000;
    else if (unit == "d")
      scale = 86'400'000;
    else
      return Invalid{bad};
    if (mul_overflows(*n, scale) || *n * scale > kMax - total) {
      return Invalid{"duration '" + std::string(text) + "' is too long"};
    }
    total += *n * scale;
  }
  return std::chrono::milliseconds{static_cast<int64_t>(total)};
}

Parsed<uint64_t> parse_size(std::string_view text) {
  const std::string bad = "invalid size '" + std::string(text) +
                          "' (expected bytes or a number with B, KB, MB, GB or TB, e.g. 100MB)";
  std::size_t pos = 0;
  auto n = take_digits(text, pos);
  if (!n) return Invalid{bad};
  std::string unit = lower(text.substr(pos));
  uint64_t scale = 0;
  if (unit.empty() || unit == "b")
    scale = 1;
  else if (unit == "kb" || unit == "kib" || unit == "k")
    scale = 1ULL << 10;
  else if (unit == "mb" || unit == "mib" || unit == "m")
    scale = 1ULL << 20;
  else if (unit == "gb" || unit == "gib" || unit == "g")
    scale = 1ULL << 30;
  else if (unit == "tb" || unit == "tib" || unit == "t")
    scale = 1ULL << 40;
  else
    return Invalid{bad};
  if (mul_overflows(*n, scale)) return Invalid{"size '" + std::string(text) + "' is too large"};
  return *n * scale;
}

Parsed<int64_t> parse_integer(std::string_view text, int64_t min, int64_t max) {
  std::string_view digits = text;
  bool negative = false;
  if (!digits.empty() && digits.front() == '-') {
    negative = true;
    digits.remove_prefix(1);
  }
  int base = 10;
  if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
    base = 16;
    digits.remove_prefix(2);
  }
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
  if (digits.empty() || ec == std::errc::invalid_argument || p != digits.data() + digits.size()) {
    return Invalid{"invalid integer '" + std::string(text) + "'"};
  }
  const std::string range = "integer " + std::string(text) + " is out of range [" +
                            std::to_string(min) + ", " + std::to_string(max) + "]";
  if (ec == std::errc::result_out_of_range || v > static_cast<uint64_t>(INT64_MAX))
    return Invalid{range};
  int64_t value = negative ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
  if (value < min || value > max) return Invalid{range};
  return value;
}

std::string HostPort::to_string() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

Parsed<HostPort> parse_host_port(std::string_view text, bool allow_port_zero) {
  const std::string bad =
      "invalid address '" + std::string(text) + "' (expected host:port, :port, or [ipv6]:port)";
  HostPort out;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return Invalid{bad};
    }
    out.host = std::string(text.substr(1, close - 1));
    auto ip = parse_ip(out.host);
    if (!ip || ip->size != 16)
      return Invalid{"invalid IPv6 address in '" + std::string(text) + "'"};
    port_text = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return Invalid{bad};
    std::string_view host = text.substr(0, colon);
    if (host.find(':') != std::string_view::npos) {
      return Invalid{"invalid address '" + std::string(text) +
                     "' (write an IPv6 host as [addr]:port)"};
    }
    for (char c : host) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') {
        return Invalid{"invalid host name '" + std::string(host) + "' in address '" +
                       std::string(text) + "'"};
      }
    }
    out.host = std::string(host);
    port_text = text.substr(colon + 1);
  }
  auto port = parse_integer(port_text, allow_port_zero ? 0 : 1, 65535);
  if (port_text.empty() || port_text.front() == '-' || std::holds_alternative<Invalid>(port)) {
    return Invalid{"invalid port '" + std::string(port_text) + "' in address '" +
                   std::string(text) + "' (expected " + (allow_port_zero ? "0" : "1") + "-65535)"};
  }
  out.port = static_cast<uint16_t>(std::get<int64_t>(port));
  return out;
}

Parsed<OtlpEndpointText> parse_otlp_endpoint(std::string_view text) {
  OtlpEndpointText out;
  const auto scheme_end = text.find("://");
  if (scheme_end != std::string_view::npos) {
    const std::string_view scheme = text.substr(0, scheme_end);
    if (scheme == "https") {
      return Invalid{"https:// is not supported: smppd sends OTLP over plain HTTP (no TLS yet); "
                     "send to a collector on this host or network (http://host:4318) that "
                     "forwards over TLS"};
    }
    if (scheme != "http") {
      return Invalid{"unsupported scheme '" + std::string(scheme) +
                     "://' (expected http://host:port[/path] or host:port)"};
    }
    out.scheme_written = true;
    text.remove_prefix(scheme_end + 3);
  }
  const std::string_view authority = text.substr(0, text.find('/'));
  std::string_view path = text.substr(authority.size());
  if (!out.scheme_written && !path.empty()) {
    return Invalid{"a path needs the scheme: write http://" + std::string(text)};
  }
  for (char c : path) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      return Invalid{"invalid character in the path '" + std::string(path) + "'"};
  }
  out.path = path.empty() || path == "/" ? "/v1/traces" : std::string(path);
  // After http:// the port may be left out (80, as in any URL).
  const bool port_written =
      authority.ends_with(']') ? false : authority.find(':') != std::string_view::npos;
  auto address = parse_host_port(
      out.scheme_written && !port_written ? std::string(authority) + ":80" : std::string(authority),
      false);
  if (auto* e = std::get_if<Invalid>(&address)) return *e;
  out.address = std::get<HostPort>(std::move(address));
  if (out.address.host.empty()) {
    return Invalid{"'" + std::string(authority) + "' names no host (expected host:port)"};
  }
  return out;
}

namespace {

std::optional<std::array<uint8_t, 4>> parse_ipv4(std::string_view s) {
  std::array<uint8_t, 4> out{};
  std::size_t pos = 0;
  for (int i = 0; i < 4; ++i) {
    if (i > 0) {
      if (pos >= s.size() || s[pos] != '.') return std::nullopt;
      ++pos;
    }
    std::size_t start = pos;
    auto n = take_digits(s, pos);
    if (!n || *n > 255 || pos - start > 3 || (pos - start > 1 && s[start] == '0')) {
      return std::nullopt;
    }
    out[static_cast<std::size_t>(i)] = static_cast<uint8_t>(*n);
  }
  if (pos != s.size()) return std::nullopt;
  return out;
}

// One run of ':'-separated hex groups (no "::"); an IPv4 tail is allowed when `allow_v4_tail`.
bool parse_groups(std::string_view s, bool allow_v4_tail, std::vector<uint16_t>& groups) {
  if (s.empty()) return true;
  std::size_t pos = 0;
  while (true) {
    std::size_t end = s.find(':', pos);
    std::string_view part = s.substr(pos, end == std::string_view::npos ? s.npos : end - pos);
    if (end == std::string_view::npos && allow_v4_tail && part.find('.') != part.npos) {
      auto v4 = parse_ipv4(part);
      if (!v4) return false;
      groups.push_back(static_cast<uint16_t>((*v4)[0] << 8 | (*v4)[1]));
      groups.push_back(static_cast<uint16_t>((*v4)[2] << 8 | (*v4)[3]));
      return true;
    }
    if (part.empty() || part.size() > 4) return false;
    uint16_t g = 0;
    auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), g, 16);
    if (ec != std::errc{} || p != part.data() + part.size()) return false;
    groups.push_back(g);
    if (end == std::string_view::npos) return true;
    pos = end + 1;
  }
}

std::optional<std::array<uint8_t, 16>> parse_ipv6(std::string_view s) {
  std::vector<uint16_t> head;
  std::vector<uint16_t> tail;
  auto gap = s.find("::");
  if (gap == std::string_view::npos) {
    if (!parse_groups(s, true, head) || head.size() != 8) return std::nullopt;
  } else {
    if (s.find("::", gap + 1) != std::string_view::npos) return std::nullopt;
    if (!parse_groups(s.substr(0, gap), false, head)) return std::nullopt;
    if (!parse_groups(s.substr(gap + 2), true, tail)) return std::nullopt;
    if (head.size() + tail.size() > 7) return std::nullopt;
  }
  std::array<uint8_t, 16> out{};
  auto put = [&](std::size_t index, uint16_t g) {
    out[2 * index] = static_cast<uint8_t>(g >> 8);
    out[2 * index + 1] = static_cast<uint8_t>(g & 0xFF);
  };
  for (std::size_t i = 0; i < head.size(); ++i) put(i, head[i]);
  for (std::size_t i = 0; i < tail.size(); ++i) put(8 - tail.size() + i, tail[i]);
  return out;
}

}  // namespace

std::optional<IpAddress> parse_ip(std::string_view text) {
  IpAddress out;
  if (text.find(':') != std::string_view::npos) {
    auto v6 = parse_ipv6(text);
    if (!v6) return std::nullopt;
    out.bytes = *v6;
    out.size = 16;
  } else {
    auto v4 = parse_ipv4(text);
    if (!v4) return std::nullopt;
    std::copy(v4->begin(), v4->end(), out.bytes.begin());
    out.size = 4;
  }
  return out;
}

Parsed<Cidr> Cidr::parse(std::string_view text) {
  auto slash = text.find('/');
  auto ip = parse_ip(text.substr(0, slash));
  if (!ip) {
    return Invalid{"invalid IP address or CIDR '" + std::string(text) +
                   "' (expected e.g. 10.0.0.0/8, 192.168.1.7 or 2001:db8::/32)"};
  }
  unsigned max_prefix = ip->size * 8u;
  unsigned prefix = max_prefix;
  if (slash != std::string_view::npos) {
    auto p = parse_integer(text.substr(slash + 1), 0, max_prefix);
    if (std::holds_alternative<Invalid>(p) || text[slash + 1] == '-') {
      return Invalid{"invalid prefix length in '" + std::string(text) + "' (expected 0-" +
                     std::to_string(max_prefix) + ")"};
    }
    prefix = static_cast<unsigned>(std::get<int64_t>(p));
  }
  for (unsigned bit = prefix; bit < max_prefix; ++bit) {
    if (ip->bytes[bit / 8] & (0x80u >> (bit % 8))) {
      return Invalid{"CIDR '" + std::string(text) + "' has host bits set below its /" +
                     std::to_string(prefix) + " prefix"};
    }
  }
  Cidr c;
  c.network_ = *ip;
  c.prefix_ = prefix;
  c.text_ = std::string(text);
  return c;
}

bool Cidr::contains(std::span<const uint8_t> address) const {
  static constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
  if (address.size() == 16 && network_.size == 4 &&
      std::equal(address.begin(), address.begin() + 12, std::begin(kMappedPrefix))) {
    address = address.subspan(12);
  }
  if (address.size() != network_.size) return false;
  unsigned full = prefix_ / 8;
  if (!std::equal(address.begin(), address.begin() + full, network_.bytes.begin())) return false;
  unsigned rest = prefix_ % 8;
  if (rest == 0) return true;
  auto mask = static_cast<uint8_t>(0xFF << (8 - rest));
  return (address[full] & mask) == network_.bytes[full];
}

Parsed<AddressPattern> parse_address_pattern(std::string_view text) {
  const std::string quoted = "'" + std::string(text) + "'";
  if (text.empty()) return Invalid{"an empty address pattern (\"*\" matches any address)"};
  AddressPattern p;
  if (text == "*") return p;
  if (text.front() == '+') {
    p.international = true;
    text.remove_prefix(1);
  }
  if (!text.empty() && text.back() == '*') {
    p.kind = AddressPattern::Kind::prefix;
    text.remove_suffix(1);
  } else {
    p.kind = AddressPattern::Kind::exact;
    if (text.empty()) return Invalid{"address pattern " + quoted + " has nothing after the '+'"};
  }
  if (text.find('*') != std::string_view::npos)
    return Invalid{"address pattern " + quoted + ": '*' may only end a pattern"};
  if (text.find('+') != std::string_view::npos)
    return Invalid{"address pattern " + quoted + ": '+' may only start a pattern"};
  p.text = std::string(text);
  return p;
}

std::optional<std::string> process_env(std::string_view name) {
  const char* v = std::getenv(std::string(name).c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

Parsed<std::string> expand_env(std::string_view text, const EnvLookup& env) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$' || i + 1 >= text.size()) {
      out += text[i];
      continue;
    }
    if (text[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    if (text[i + 1] != '{') {
      out += text[i];
      continue;
    }
    auto close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      return Invalid{"unterminated '${' in '" + std::string(text) + "'"};
    }
    std::string_view name = text.substr(i + 2, close - i - 2);
    if (name.empty()) return Invalid{"empty variable name '${}' in '" + std::string(text) + "'"};
    auto value = env(name);
    if (!value) return Invalid{"environment variable '" + std::string(name) + "' is not set"};
    out += *value;
    i = close;
  }
  return out;
}

Parsed<JsonPath> parse_json_path(std::string_view text) {
  constexpr std::size_t kMaxSteps = 16;
  const std::string quoted = "'" + std::string(text) + "'";
  if (text.empty()) return Invalid{"an empty JSON path (write e.g. result.mcc)"};
  JsonPath path;
  std::size_t i = 0;
  bool expect_key = true;  // at the start and after '.'
  while (i < text.size()) {
    if (path.size() == kMaxSteps)
      return Invalid{"JSON path " + quoted + " has more than " + std::to_string(kMaxSteps) +
                     " steps"};
    if (text[i] == '[') {
      if (expect_key && i > 0)
        return Invalid{"JSON path " + quoted + ": '.' must be followed by a key"};
      const std::size_t close = text.find(']', i);
      const std::string_view digits =
          close == std::string_view::npos ? std::string_view() : text.substr(i + 1, close - i - 1);
      if (digits.empty() || digits.size() > 6 ||
          digits.find_first_not_of("0123456789") != std::string_view::npos) {
        return Invalid{"JSON path " + quoted + ": '[' must hold a list index, as in results[0]"};
      }
      JsonPathStep step;
      step.is_index = true;
      std::from_chars(digits.data(), digits.data() + digits.size(), step.index);
      path.push_back(std::move(step));
      i = close + 1;
      expect_key = false;
      continue;
    }
    if (!expect_key) {
      if (text[i] != '.') return Invalid{"JSON path " + quoted + ": expected '.' or '[' after ']'"};
      ++i;
      expect_key = true;
      if (i == text.size()) return Invalid{"JSON path " + quoted + " ends with '.'"};
      continue;
    }
    const std::size_t end = text.find_first_of(".[]", i);
    const std::string_view key = text.substr(i, end == std::string_view::npos ? end : end - i);
    if (key.empty()) return Invalid{"JSON path " + quoted + " has an empty key"};
    if (end != std::string_view::npos && text[end] == ']')
      return Invalid{"JSON path " + quoted + ": ']' without '['"};
    path.push_back(JsonPathStep{std::string(key), 0, false});
    i = end == std::string_view::npos ? text.size() : end;
    expect_key = false;
  }
  return path;
}

std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates) {
  auto distance = [](std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
      std::size_t diagonal = row[0];
      row[0] = i;
      for (std::size_t j = 1; j <= b.size(); ++j) {
        std::size_t above = row[j];
        std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + cost});
        diagonal = above;
      }
    }
    return row[b.size()];
  };
  std::optional<std::string> best;
  std::size_t best_distance = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    std::size_t d = distance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

}  // namespace smppd::config
