#include "router/pattern.hpp"

namespace smppd::router {

bool matches(const config::AddressPattern& pattern, Address address) {
  using Kind = config::AddressPattern::Kind;
  if (pattern.kind == Kind::any) return true;
  if (pattern.international && !address.international) return false;
  if (pattern.kind == Kind::prefix) return address.digits.starts_with(pattern.text);
  return address.digits == pattern.text;
}

std::string match_text(std::string_view field, std::string_view written_pattern,
                       const config::AddressPattern& pattern, std::string_view address,
                       uint8_t ton) {
  const Address a = Address::of(address, ton);
  std::string out = std::string(field) + " '" + std::string(address) + "'";
  if (matches(pattern, a)) return out + " matches '" + std::string(written_pattern) + "'";
  config::AddressPattern any_ton = pattern;
  any_ton.international = false;
  if (pattern.international && matches(any_ton, a)) {
    // The digits match: what is missing is the '+' or TON 1.
    return out + " (TON " + std::to_string(ton) +
           ", no '+') is not an international number, which '" + std::string(written_pattern) +
           "' requires";
  }
  return out + " does not match '" + std::string(written_pattern) + "'";
}

}  // namespace smppd::router
