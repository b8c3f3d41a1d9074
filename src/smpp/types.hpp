// Value types that PDU fields are made of. They keep their bytes inline (no heap) up to the
// limits of the specification, so a decoded submit_sm costs no allocation.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace smpp {

// A C-Octet String field of at most Max octets *including* its terminating NUL, as the spec
// tables give the sizes ("Var. max 21"). Holds at most Max-1 characters, never a NUL.
template <std::size_t Max>
class CStr {
  static_assert(Max >= 1 && Max <= 256);

 public:
  static constexpr std::size_t kMaxLength = Max - 1;

  constexpr CStr() = default;
  // Throws std::length_error when `s` does not fit: for building PDUs in code and tests.
  // Data from a peer goes through assign(), which reports instead.
  CStr(std::string_view s) {  // NOLINT(google-explicit-constructor): fields read like strings
    if (!assign(s)) throw std::length_error("C-Octet String too long or contains NUL");
  }
  CStr(const char* s) : CStr(std::string_view(s)) {}         // NOLINT
  CStr(const std::string& s) : CStr(std::string_view(s)) {}  // NOLINT

  // False (and unchanged) when `s` is longer than kMaxLength or contains a NUL.
  bool assign(std::string_view s) {
    if (s.size() > kMaxLength || s.find('\0') != std::string_view::npos) return false;
    std::memcpy(data_.data(), s.data(), s.size());
    size_ = static_cast<uint8_t>(s.size());
    return true;
  }

  std::string_view view() const { return {data_.data(), size_}; }
  operator std::string_view() const { return view(); }  // NOLINT
  std::string str() const { return std::string(view()); }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void clear() { size_ = 0; }

  friend bool operator==(const CStr& a, const CStr& b) { return a.view() == b.view(); }
  friend bool operator==(const CStr& a, std::string_view b) { return a.view() == b; }
  friend bool operator==(const CStr& a, const char* b) { return a.view() == std::string_view(b); }

 private:
  std::array<char, Max> data_{};
  uint8_t size_ = 0;
};

// short_message: 0..254 octets (sm_length 255 is not allowed), inline.
class ShortMessage {
 public:
  static constexpr std::size_t kMaxLength = 254;

  ShortMessage() = default;
  ShortMessage(std::string_view s) {  // NOLINT: reads like a string
    if (!assign(s)) throw std::length_error("short_message longer than 254 octets");
  }
  ShortMessage(const char* s) : ShortMessage(std::string_view(s)) {}  // NOLINT

  bool assign(std::span<const uint8_t> bytes) {
    if (bytes.size() > kMaxLength) return false;
    if (!bytes.empty()) std::memcpy(data_.data(), bytes.data(), bytes.size());
    size_ = static_cast<uint8_t>(bytes.size());
    return true;
  }
  bool assign(std::string_view s) {
    return assign(std::span(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
  }

  std::span<const uint8_t> bytes() const { return {data_.data(), size_}; }
  std::string_view view() const { return {reinterpret_cast<const char*>(data_.data()), size_}; }
  const uint8_t* data() const { return data_.data(); }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void clear() { size_ = 0; }

  friend bool operator==(const ShortMessage& a, const ShortMessage& b) {
    return a.view() == b.view();
  }

 private:
  std::array<uint8_t, kMaxLength> data_{};
  uint8_t size_ = 0;
};

}  // namespace smpp
