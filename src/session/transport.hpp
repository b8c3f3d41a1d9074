// The byte stream under a session: a TCP socket, or TLS over one. One Session type serves both;
// only the read path differs (see Session::read_loop).
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>

#include <unistd.h>

#include <memory>

namespace smppd::session {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using TlsStream = asio::ssl::stream<tcp::socket>;

// Hands a connected socket's descriptor to the reactor again, so that it is registered for
// reads only. A connect, or a write that had to wait for room, registers the descriptor for
// writability as well, and Asio never takes that back; since every wait for input re-registers
// the descriptor, a writable socket would then report "writable" after each read: a spurious
// wake-up per read. Only while no operation is pending on the socket. Keeps the socket's
// non-blocking mode. Should the reactor refuse the descriptor, the connection is closed (the
// socket's next operation fails, and its owner closes as for any failed read).
inline void register_for_reads_only(tcp::socket& socket) {
  boost::system::error_code ec;
  const auto protocol = socket.local_endpoint(ec).protocol();
  if (ec) return;
  const bool non_blocking = socket.non_blocking();
  const auto fd = socket.release(ec);
  if (ec) return;
  socket.assign(protocol, fd, ec);
  if (ec) {
    ::close(fd);  // nobody owns it any more
    return;
  }
  if (non_blocking) {
    socket.non_blocking(true, ec);
    // A socket Asio takes for blocking would block the thread in a read: close it instead.
    if (ec) socket.close(ec);
  }
}

class Transport {
 public:
  explicit Transport(tcp::socket socket) : socket_(std::move(socket)) {}
  Transport(tcp::socket socket, asio::ssl::context& tls)
      : socket_(socket.get_executor()), tls_(std::make_unique<TlsStream>(std::move(socket), tls)) {}

  bool is_tls() const { return tls_ != nullptr; }
  TlsStream& tls() { return *tls_; }
  tcp::socket& socket() { return tls_ ? tls_->next_layer() : socket_; }

  void close() {
    boost::system::error_code ignored;
    socket().shutdown(tcp::socket::shutdown_both, ignored);
    socket().close(ignored);
  }

 private:
  tcp::socket socket_;  // unused (not open) when tls_ is set
  std::unique_ptr<TlsStream> tls_;
};

}  // namespace smppd::session
