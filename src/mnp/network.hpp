// What a number portability lookup tells: the mobile network that serves a number now (its MCC
// and MNC) and whether the number was ported to it. Small and trivially copyable: the cache
// (mnp_cache.hpp) packs it into a few bits, the parsers (mnp_response.hpp) make it from text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace smppd::mnp {

struct Network {
  uint16_t mcc = 0;               // 0-999, always written with 3 digits
  uint16_t mnc = 0;               // 0-999
  bool mnc_three_digits = false;  // "001" and "01" are different networks in some countries
  bool ported = false;

  std::string mcc_text() const;  // "655"
  std::string mnc_text() const;  // "01", or "001" when mnc_three_digits
  bool operator==(const Network&) const = default;
};

// "655": exactly 3 ASCII digits.
std::optional<uint16_t> parse_mcc(std::string_view text);
// "01" or "001": 2 or 3 ASCII digits; `three_digits` says which.
std::optional<uint16_t> parse_mnc(std::string_view text, bool& three_digits);
// "65501" or "655001" (an MCC and an MNC together, as MCCMNC or HNI): 5 or 6 ASCII digits.
// `ported` is left false.
std::optional<Network> parse_mccmnc(std::string_view text);

}  // namespace smppd::mnp
