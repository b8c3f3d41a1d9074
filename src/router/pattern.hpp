// Matching addresses against route patterns (config::AddressPattern: "*", "258*", "258841234567",
// each optionally with a leading '+').
//
// The '+' rules, as SMPP clients send numbers:
//  - an address is international when the PDU writes it with a leading '+' (whatever its TON)
//    or gives TON 1 (international); its digits are compared without the '+';
//  - a pattern with a leading '+' ("+258*") matches international addresses only: "+258841234567"
//    at any TON and "258841234567" at TON 1, but not "258841234567" at TON 0 or 2;
//  - a pattern without '+' ("258*") does not look at the TON: it matches the digits whether or not
//    the PDU writes a '+', so "258*" matches "258841234567" at any TON and "+258841234567".
//    Write the '+' to require an international number.
// Comparison is octet by octet (alphanumeric sender ids are case-sensitive); no other
// normalisation is made (a "00" international prefix is not turned into '+').
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "config/values.hpp"

namespace smppd::router {

inline constexpr uint8_t kTonInternational = 1;

// An address as a PDU carries it, with the '+' of an international number taken off.
struct Address {
  std::string_view digits;     // without a leading '+'
  bool international = false;  // written with '+', or TON 1

  static Address of(std::string_view text, uint8_t ton) {
    const bool plus = !text.empty() && text.front() == '+';
    if (plus) text.remove_prefix(1);
    return {text, plus || ton == kTonInternational};
  }
};

bool matches(const config::AddressPattern& pattern, Address address);

// Why `address` (as written, with its TON) does or does not match the pattern (as written), for
// explanations: "'+258841234567' matches '+258*'".
std::string match_text(std::string_view field, std::string_view written_pattern,
                       const config::AddressPattern& pattern, std::string_view address,
                       uint8_t ton);

}  // namespace smppd::router
