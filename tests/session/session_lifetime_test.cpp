// A session owns itself once started: its owner may let go of it at any time, even closing it
// before its coroutines ever ran, without the coroutines touching a destroyed session.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <memory>

#include "session/session.hpp"

namespace smppd::session {
namespace {

struct CountingHandler : SessionHandler {
  int* closed;
  explicit CountingHandler(int* c) : closed(c) {}
  void on_request(Session&, smpp::Pdu&) override {}
  void on_closed(Session&, std::string_view) override { ++*closed; }
};

// A connected pair of sockets on loopback.
std::pair<tcp::socket, tcp::socket> socket_pair(asio::io_context& io) {
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket client(io);
  client.connect(acceptor.local_endpoint());
  tcp::socket server = acceptor.accept();
  return {std::move(server), std::move(client)};
}

TEST(SessionLifetime, ClosedAndReleasedBeforeItsCoroutinesRan) {
  asio::io_context io;
  auto [server, client] = socket_pair(io);
  int closed = 0;
  {
    // No weak_ptr is kept: the session's memory would be freed with the last shared_ptr, so
    // AddressSanitizer sees a coroutine that uses it after that.
    auto s = std::make_shared<Session>(Transport(std::move(server)),
                                       std::make_shared<const SessionSettings>(),
                                       std::make_unique<CountingHandler>(&closed));
    s->start();  // the io_context is not running: the coroutines have not started yet
    s->close("owner gave up");
  }
  io.run();  // the coroutines start now and must find their session alive, then end
  EXPECT_EQ(closed, 1);
}

TEST(SessionLifetime, ReleasedWhileRunningStaysAliveUntilClosed) {
  asio::io_context io;
  auto [server, client] = socket_pair(io);
  int closed = 0;
  std::weak_ptr<Session> weak;
  {
    auto s = std::make_shared<Session>(Transport(std::move(server)),
                                       std::make_shared<const SessionSettings>(),
                                       std::make_unique<CountingHandler>(&closed));
    weak = s;
    s->start();
  }
  io.poll();
  EXPECT_FALSE(weak.expired());  // its coroutines hold it
  client.close();                // the peer goes away: the reader sees EOF and closes
  io.run();
  EXPECT_EQ(closed, 1);
  EXPECT_TRUE(weak.expired());
}

}  // namespace
}  // namespace smppd::session
