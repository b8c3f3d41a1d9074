// A peer address as a map key: the address bytes, with an IPv4-mapped IPv6 address
// (::ffff:a.b.c.d) folded to its IPv4 form, so that a peer counts once whether a dual-stack
// socket reports it as IPv4 or as mapped IPv6.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <span>

namespace smppd::limits {

struct PeerKey {
  std::array<uint8_t, 16> bytes{};
  uint8_t size = 0;  // 4 or 16; 0 for an address of any other length

  // `address` is 4 or 16 bytes in network order; any other length gives the empty key.
  static PeerKey of(std::span<const uint8_t> address);
  // The key of the /64 block holding an IPv6 address (IPv4 addresses are kept whole): one
  // subscriber usually holds a whole /64, so counting per address would be trivially evaded.
  static PeerKey block_of(std::span<const uint8_t> address);

  std::span<const uint8_t> view() const { return {bytes.data(), size}; }
  auto operator<=>(const PeerKey&) const = default;

  struct Hash {
    size_t operator()(const PeerKey& key) const;
  };
};

}  // namespace smppd::limits
