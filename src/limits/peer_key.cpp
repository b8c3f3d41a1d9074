#include "limits/peer_key.hpp"

#include <algorithm>

namespace smppd::limits {

namespace {

constexpr std::array<uint8_t, 12> kV4MappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

}  // namespace

PeerKey PeerKey::of(std::span<const uint8_t> address) {
  PeerKey key;
  if (address.size() == 16 &&
      std::equal(kV4MappedPrefix.begin(), kV4MappedPrefix.end(), address.begin())) {
    address = address.subspan(12);
  }
  if (address.size() != 4 && address.size() != 16) return key;
  std::copy(address.begin(), address.end(), key.bytes.begin());
  key.size = static_cast<uint8_t>(address.size());
  return key;
}

PeerKey PeerKey::block_of(std::span<const uint8_t> address) {
  PeerKey key = of(address);
  if (key.size == 16) std::fill(key.bytes.begin() + 8, key.bytes.end(), uint8_t{0});
  return key;
}

size_t PeerKey::Hash::operator()(const PeerKey& key) const {
  // FNV-1a over the size and the bytes.
  uint64_t h = 14695981039346656037ull;
  auto mix = [&h](uint8_t b) {
    h ^= b;
    h *= 1099511628211ull;
  };
  mix(key.size);
  for (uint8_t b : key.view()) mix(b);
  return static_cast<size_t>(h);
}

}  // namespace smppd::limits
