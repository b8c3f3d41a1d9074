// Command-line values of smpp_loadgen and smpp_sink, read with the configuration's own parsers
// so that they are written as in smppd.yaml ("500ms", "1m30s", "127.0.0.1:2775").
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <stdexcept>
#include <string>
#include <variant>

#include "config/values.hpp"

namespace smppd::bench {

// A duration such as "250ms" or "5s"; throws std::invalid_argument with the reason.
inline std::chrono::milliseconds parse_duration_arg(const std::string& text, const char* what) {
  auto parsed = config::parse_duration(text);
  if (auto* bad = std::get_if<config::Invalid>(&parsed)) {
    throw std::invalid_argument(std::string(what) + ": " + bad->reason);
  }
  return std::get<std::chrono::milliseconds>(parsed);
}

// HOST:PORT resolved to its first address (an empty host is 127.0.0.1 for a target and every
// interface for a listener); throws std::invalid_argument.
inline boost::asio::ip::tcp::endpoint parse_endpoint_arg(const std::string& text, bool listening) {
  auto parsed = config::parse_host_port(text, listening);
  if (auto* bad = std::get_if<config::Invalid>(&parsed)) {
    throw std::invalid_argument(text + ": " + bad->reason);
  }
  const auto& hp = std::get<config::HostPort>(parsed);
  namespace ip = boost::asio::ip;
  if (hp.host.empty()) {
    return {listening ? ip::address(ip::address_v6::any()) : ip::make_address("127.0.0.1"),
            hp.port};
  }
  boost::system::error_code ec;
  const auto literal = ip::make_address(hp.host, ec);
  if (!ec) return {literal, hp.port};
  boost::asio::io_context io;
  ip::tcp::resolver resolver(io);
  const auto results = resolver.resolve(hp.host, std::to_string(hp.port), ec);
  if (ec || results.empty()) {
    throw std::invalid_argument(text + ": cannot resolve " + hp.host + ": " + ec.message());
  }
  return *results.begin();
}

}  // namespace smppd::bench
