#include "mnp/network.hpp"

#include <algorithm>

namespace smppd::mnp {

namespace {

bool all_digits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

uint16_t value_of(std::string_view digits) {
  uint16_t v = 0;
  for (char c : digits) v = static_cast<uint16_t>(v * 10 + (c - '0'));
  return v;
}

std::string digits(uint16_t value, int width) {
  std::string out(static_cast<std::size_t>(width), '0');
  for (int i = width - 1; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
    value = static_cast<uint16_t>(value / 10);
  }
  return out;
}

}  // namespace

std::string Network::mcc_text() const {
  return digits(mcc, 3);
}

std::string Network::mnc_text() const {
  return digits(mnc, mnc_three_digits ? 3 : 2);
}

std::optional<uint16_t> parse_mcc(std::string_view text) {
  if (text.size() != 3 || !all_digits(text)) return std::nullopt;
  return value_of(text);
}

std::optional<uint16_t> parse_mnc(std::string_view text, bool& three_digits) {
  if ((text.size() != 2 && text.size() != 3) || !all_digits(text)) return std::nullopt;
  three_digits = text.size() == 3;
  return value_of(text);
}

std::optional<Network> parse_mccmnc(std::string_view text) {
  if ((text.size() != 5 && text.size() != 6) || !all_digits(text)) return std::nullopt;
  Network n;
  n.mcc = value_of(text.substr(0, 3));
  n.mnc = value_of(text.substr(3));
  n.mnc_three_digits = text.size() == 6;
  return n;
}

}  // namespace smppd::mnp
