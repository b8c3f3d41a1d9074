// An endpoint as smppd writes it in logs and answers: "1.2.3.4:2775", "[::1]:2775"; an IPv4 peer
// seen by a dual-stack socket (::ffff:a.b.c.d) is written as IPv4.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <string>

namespace smppd::net {

std::string endpoint_text(const boost::asio::ip::tcp::endpoint& e);

}  // namespace smppd::net
