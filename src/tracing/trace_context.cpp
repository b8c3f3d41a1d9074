#include "tracing/trace_context.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <random>

namespace smppd::tracing {

namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

template <std::size_t N>
bool any_nonzero(const std::array<uint8_t, N>& bytes) {
  return std::any_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b != 0; });
}

// xoshiro256** (Blackman and Vigna): fast, good enough for ids that must be unique, not secret.
class Xoshiro256 {
 public:
  Xoshiro256() {
    std::random_device device;
    for (auto& word : state_) word = (uint64_t{device()} << 32) ^ device();
    if (std::all_of(state_.begin(), state_.end(), [](uint64_t w) { return w == 0; })) state_[0] = 1;
  }
  uint64_t next() {
    const uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<uint64_t, 4> state_{};
};

uint64_t random_u64() {
  thread_local Xoshiro256 generator;
  return generator.next();
}

void store_be(uint64_t v, uint8_t* out) {
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
  std::memcpy(out, &v, sizeof v);
}

template <std::size_t N>
void write_hex(const std::array<uint8_t, N>& bytes, char* out) {
  for (std::size_t i = 0; i < N; ++i) {
    out[2 * i] = kHexDigits[bytes[i] >> 4];
    out[2 * i + 1] = kHexDigits[bytes[i] & 0xf];
  }
}

int hex_value(char c, bool lowercase_only) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (!lowercase_only && c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

template <std::size_t N>
bool read_hex(std::string_view hex, std::array<uint8_t, N>& out, bool lowercase_only) {
  if (hex.size() != 2 * N) return false;
  for (std::size_t i = 0; i < N; ++i) {
    const int hi = hex_value(hex[2 * i], lowercase_only);
    const int lo = hex_value(hex[2 * i + 1], lowercase_only);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

}  // namespace

bool TraceId::valid() const {
  return any_nonzero(bytes);
}

bool SpanId::valid() const {
  return any_nonzero(bytes);
}

SpanContext SpanContext::child() const {
  return {trace_id, random_span_id(), flags};
}

TraceId random_trace_id() {
  uint64_t high, low;
  do {
    high = random_u64();
    low = random_u64();
  } while ((high | low) == 0);
  TraceId id;
  store_be(high, id.bytes.data());
  store_be(low, id.bytes.data() + 8);
  return id;
}

SpanId random_span_id() {
  uint64_t v;
  do {
    v = random_u64();
  } while (v == 0);
  SpanId id;
  store_be(v, id.bytes.data());
  return id;
}

std::string to_hex(const TraceId& id) {
  std::string out(32, '0');
  write_hex(id.bytes, out.data());
  return out;
}

std::string to_hex(const SpanId& id) {
  std::string out(16, '0');
  write_hex(id.bytes, out.data());
  return out;
}

std::optional<TraceId> trace_id_from_hex(std::string_view hex) {
  TraceId id;
  if (!read_hex(hex, id.bytes, false) || !id.valid()) return std::nullopt;
  return id;
}

std::optional<SpanId> span_id_from_hex(std::string_view hex) {
  SpanId id;
  if (!read_hex(hex, id.bytes, false) || !id.valid()) return std::nullopt;
  return id;
}

std::optional<SpanContext> parse_traceparent(std::string_view header) {
  const auto ows = [](char c) { return c == ' ' || c == '\t'; };
  while (!header.empty() && ows(header.front())) header.remove_prefix(1);
  while (!header.empty() && ows(header.back())) header.remove_suffix(1);
  if (header.size() < kTraceparentSize) return std::nullopt;

  std::array<uint8_t, 1> version{};
  if (!read_hex(header.substr(0, 2), version, true) || version[0] == 0xff) return std::nullopt;
  // Version 00 is exactly this long. A later version may add fields after a '-': a receiver
  // that knows only 00 reads the fields it knows and ignores the rest.
  if (version[0] == 0 ? header.size() != kTraceparentSize
                      : header.size() > kTraceparentSize && header[kTraceparentSize] != '-')
    return std::nullopt;
  if (header[2] != '-' || header[35] != '-' || header[52] != '-') return std::nullopt;

  SpanContext context;
  std::array<uint8_t, 1> flags{};
  if (!read_hex(header.substr(3, 32), context.trace_id.bytes, true) ||
      !read_hex(header.substr(36, 16), context.span_id.bytes, true) ||
      !read_hex(header.substr(53, 2), flags, true) || !context.valid())
    return std::nullopt;
  context.flags = flags[0];
  return context;
}

void format_traceparent(const SpanContext& context, std::array<char, kTraceparentSize>& out) {
  out[0] = '0';
  out[1] = '0';
  out[2] = '-';
  write_hex(context.trace_id.bytes, out.data() + 3);
  out[35] = '-';
  write_hex(context.span_id.bytes, out.data() + 36);
  out[52] = '-';
  write_hex(std::array<uint8_t, 1>{context.flags}, out.data() + 53);
}

std::string format_traceparent(const SpanContext& context) {
  std::array<char, kTraceparentSize> text;
  format_traceparent(context, text);
  return std::string(text.data(), text.size());
}

RatioSampler::RatioSampler(double ratio) : ratio_(std::clamp(ratio, 0.0, 1.0)) {
  constexpr double kRange = 72057594037927936.0;  // 2^56
  threshold_ = ratio_ >= 1.0 ? uint64_t{1} << 56 : static_cast<uint64_t>(ratio_ * kRange);
}

bool RatioSampler::sampled(const TraceId& id) const {
  uint64_t low;
  std::memcpy(&low, id.bytes.data() + 8, sizeof low);
  if constexpr (std::endian::native == std::endian::little) low = __builtin_bswap64(low);
  return (low & ((uint64_t{1} << 56) - 1)) < threshold_;
}

}  // namespace smppd::tracing
