// An endpoint as smppd writes it in logs and answers: "1.2.3.4:2775", "[::1]:2775"; an IPv4 peer
// seen by a dual-stack socket (::ffff:a.b.c.d) is written as IPv4.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace smppd::net {

std::string endpoint_text(const boost::asio::ip::tcp::endpoint& e);

// An address as the admission and client rules read it (limits, auth): 4 bytes for IPv4, 16 for
// IPv6 (an IPv4-mapped one stays 16: those rules map it themselves), network order.
struct AddressBytes {
  std::array<uint8_t, 16> bytes{};
  std::size_t size = 0;
  std::span<const uint8_t> view() const { return {bytes.data(), size}; }
};
AddressBytes address_bytes(const boost::asio::ip::address& a);

}  // namespace smppd::net
