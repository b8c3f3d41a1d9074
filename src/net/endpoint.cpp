#include "net/endpoint.hpp"

#include <algorithm>

namespace smppd::net {

std::string endpoint_text(const boost::asio::ip::tcp::endpoint& e) {
  namespace ip = boost::asio::ip;
  ip::address a = e.address();
  if (a.is_v6() && a.to_v6().is_v4_mapped()) a = ip::make_address_v4(ip::v4_mapped, a.to_v6());
  if (a.is_v6()) return "[" + a.to_string() + "]:" + std::to_string(e.port());
  return a.to_string() + ":" + std::to_string(e.port());
}

AddressBytes address_bytes(const boost::asio::ip::address& a) {
  AddressBytes out;
  if (a.is_v4()) {
    const auto b = a.to_v4().to_bytes();
    std::copy(b.begin(), b.end(), out.bytes.begin());
    out.size = 4;
  } else {
    const auto b = a.to_v6().to_bytes();
    std::copy(b.begin(), b.end(), out.bytes.begin());
    out.size = 16;
  }
  return out;
}

}  // namespace smppd::net
