#include "api/http/client.hpp"

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace smppd::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

template <class Stream>
ClientResult exchange(Stream& stream, asio::io_context& io, const ClientRequest& r) {
  ClientResult result;
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(r.method), r.target, 11};
  req.set(bhttp::field::host, r.host);
  req.set(bhttp::field::user_agent, "smppd-cli");
  for (const auto& [name, value] : r.headers) req.set(name, value);
  req.body() = r.body;
  req.keep_alive(false);
  req.prepare_payload();
  beast::error_code ec;
  bhttp::async_write(stream, req, [&](beast::error_code e, std::size_t) { ec = e; });
  io.run();
  io.restart();
  if (ec) {
    result.error = ec == beast::error::timeout ? "timed out" : ec.message();
    return result;
  }
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  bhttp::async_read(stream, buffer, parser, [&](beast::error_code e, std::size_t) { ec = e; });
  io.run();
  if (ec) {
    result.error = ec == beast::error::timeout ? "timed out waiting for the answer" : ec.message();
    return result;
  }
  auto& res = parser.get();
  result.answer = ClientAnswer{res.result_int(), std::move(res.body()),
                               std::string(res[bhttp::field::content_type])};
  return result;
}

}  // namespace

ClientResult fetch(const ClientRequest& r) {
  ClientResult result;
  asio::io_context io;
  beast::tcp_stream tcp_stream(io);
  tcp::resolver resolver(io);
  beast::error_code ec;
  const auto endpoints = resolver.resolve(r.host, std::to_string(r.port), ec);
  if (ec) {
    result.error = "cannot resolve " + r.host + ": " + ec.message();
    return result;
  }
  tcp_stream.expires_after(r.timeout);
  tcp_stream.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
  io.run();
  io.restart();
  if (ec) {
    result.refused = ec == asio::error::connection_refused;
    result.error = ec == beast::error::timeout
                       ? "connect timed out after " + std::to_string(r.timeout.count()) + " ms"
                       : ec.message();
    return result;
  }
  if (!r.tls) return exchange(tcp_stream, io, r);

  asio::ssl::context ctx(asio::ssl::context::tls_client);
  if (r.verify) {
    if (r.ca_file.empty()) {
      ctx.set_default_verify_paths(ec);
    } else {
      ctx.load_verify_file(r.ca_file, ec);
    }
    if (ec) {
      result.error = "TLS: cannot load the CA " + r.ca_file + ": " + ec.message();
      return result;
    }
    ctx.set_verify_mode(asio::ssl::verify_peer);
  } else {
    ctx.set_verify_mode(asio::ssl::verify_none);
  }
  beast::ssl_stream<beast::tcp_stream&> tls(tcp_stream, ctx);
  if (r.verify) {
    boost::system::error_code not_ip;
    asio::ip::make_address(r.host, not_ip);
    if (not_ip) {  // SNI names a host, never an address (RFC 6066)
      SSL_ctrl(tls.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(r.host.c_str()));
    }
    tls.set_verify_callback(asio::ssl::host_name_verification(r.host));
  }
  tls.async_handshake(asio::ssl::stream_base::client, [&](beast::error_code e) { ec = e; });
  io.run();
  io.restart();
  if (ec) {
    result.error = "TLS handshake: " + ec.message();
    return result;
  }
  return exchange(tls, io, r);
}

}  // namespace smppd::http
