// Parsers for the scalar forms the configuration accepts: durations, sizes, integers (decimal or
// 0x hex), host:port addresses, CIDR blocks, ${VAR} expansion, and "did you mean" suggestions.
// Pure functions over text: no YAML, no sockets. Each returns the value or a reason it is invalid.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace smppd::config {

// Why a text is not a valid value: a sentence fragment fit for "error: <reason>".
struct Invalid {
  std::string reason;
};
// A value, or the reason the text is not one.
template <class T>
using Parsed = std::variant<T, Invalid>;

// "500ms", "30s", "5m", "1h", "30d" and sums of them ("1h30m"); "0" alone is zero. Units: ms, s,
// m, h, d. Integers only.
Parsed<std::chrono::milliseconds> parse_duration(std::string_view text);

// "100MB", "10KB", "1GB", "512B", or a plain number of bytes. Units are binary (KB = 1024 bytes,
// also spelt KiB) and case-insensitive.
Parsed<uint64_t> parse_size(std::string_view text);

// A decimal or 0x-prefixed hexadecimal integer within [min, max].
Parsed<int64_t> parse_integer(std::string_view text, int64_t min, int64_t max);

// host:port. ":2775" means every interface (empty host); "[::1]:2775" an IPv6 literal.
struct HostPort {
  std::string host;  // empty: all interfaces; an IPv6 literal is kept without brackets
  uint16_t port = 0;
  std::string to_string() const;
  bool operator==(const HostPort&) const = default;
};
Parsed<HostPort> parse_host_port(std::string_view text, bool allow_port_zero);

// An OTLP/HTTP endpoint as written: "host:port", "http://host:port" or "http://host:port/path"
// (after http:// the port may be left out: 80; no path, or "/": /v1/traces; an IPv6 host in
// brackets). https:// and every other scheme are refused with the reason.
struct OtlpEndpointText {
  HostPort address;
  std::string path;
  bool scheme_written = false;  // http:// was written
};
Parsed<OtlpEndpointText> parse_otlp_endpoint(std::string_view text);

// An IPv4 (4 bytes) or IPv6 (16 bytes) address in network byte order.
struct IpAddress {
  std::array<uint8_t, 16> bytes{};
  uint8_t size = 0;  // 4 or 16
  std::span<const uint8_t> view() const { return {bytes.data(), size}; }
};
std::optional<IpAddress> parse_ip(std::string_view text);

// An address block: "10.0.0.0/8", "2001:db8::/32"; a bare address is /32 or /128.
class Cidr {
 public:
  // Rejects a prefix longer than the address and host bits set below the prefix.
  static Parsed<Cidr> parse(std::string_view text);

  // Whether the address (4 or 16 bytes, network order) lies in the block. An IPv4-mapped IPv6
  // address (::ffff:a.b.c.d) matches IPv4 blocks, as a dual-stack socket reports IPv4 peers so.
  bool contains(std::span<const uint8_t> address) const;
  bool is_v6() const { return network_.size == 16; }
  unsigned prefix_length() const { return prefix_; }
  const std::string& text() const { return text_; }
  // The same block, as written.
  bool operator==(const Cidr& other) const { return text_ == other.text_; }

 private:
  IpAddress network_;
  unsigned prefix_ = 0;
  std::string text_;
};

// An address pattern of a route or mo_route: "*" (any address), "258*" (a prefix),
// "258841234567" (exactly that address). A leading '+' ("+258*") restricts it to international
// numbers; router/pattern.hpp has the matching rules. '*' may only end a pattern.
struct AddressPattern {
  enum class Kind { any, prefix, exact };
  Kind kind = Kind::any;
  bool international = false;  // written with a leading '+'
  std::string text;            // without the leading '+' and the trailing '*'
};
Parsed<AddressPattern> parse_address_pattern(std::string_view text);

// A path into a JSON document, as the custom MNP provider's fields are written: object keys
// separated by '.', list items by [N]: "mcc", "result.network.mnc", "results[0].mcc", "[0].mcc".
// A key is any run of characters other than '.', '[' and ']' (case-sensitive); at most 16 steps.
struct JsonPathStep {
  std::string key;        // empty for a list item
  std::size_t index = 0;  // a list item's
  bool is_index = false;

  bool operator==(const JsonPathStep&) const = default;
};
using JsonPath = std::vector<JsonPathStep>;
Parsed<JsonPath> parse_json_path(std::string_view text);

// Looks a variable up; std::nullopt when it is not set.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;
// The process environment.
std::optional<std::string> process_env(std::string_view name);

// Replaces every ${NAME} with the variable's value; "$$" is a literal "$". Fails naming the first
// variable that is not set, or on an unterminated "${".
Parsed<std::string> expand_env(std::string_view text, const EnvLookup& env);

// The candidate closest to `word` by edit distance, if close enough to be a likely typo.
std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates);

}  // namespace smppd::config
