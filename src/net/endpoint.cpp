#include "net/endpoint.hpp"

namespace smppd::net {

std::string endpoint_text(const boost::asio::ip::tcp::endpoint& e) {
  namespace ip = boost::asio::ip;
  ip::address a = e.address();
  if (a.is_v6() && a.to_v6().is_v4_mapped()) a = ip::make_address_v4(ip::v4_mapped, a.to_v6());
  if (a.is_v6()) return "[" + a.to_string() + "]:" + std::to_string(e.port());
  return a.to_string() + ":" + std::to_string(e.port());
}

}  // namespace smppd::net
