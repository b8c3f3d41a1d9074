// register_for_reads_only: what the kernel's epoll set holds for a connected socket.
#include "session/transport.hpp"

#include <gtest/gtest.h>
#include <sys/epoll.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <string>

#include "epoll_events.hpp"

namespace smppd::session {
namespace {

using smppd::testing::epoll_events_of;

TEST(Transport, AConnectedSocketIsWatchedForInputOnlyAndStillCarriesBytes) {
  asio::io_context io;
  tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), 0});
  tcp::socket client(io), server(io);
  bool connected = false;
  client.async_connect(acceptor.local_endpoint(), [&](const boost::system::error_code& ec) {
    ASSERT_FALSE(ec) << ec.message();
    connected = true;
  });
  acceptor.accept(server);
  io.run();
  io.restart();
  ASSERT_TRUE(connected);

  // What the connect left behind: watched for output too.
  const auto before = epoll_events_of(client.native_handle());
  ASSERT_TRUE(before.has_value()) << "the connected socket is in no epoll set";
  EXPECT_NE(*before & EPOLLOUT, 0u);

  client.non_blocking(true);
  register_for_reads_only(client);
  ASSERT_TRUE(client.is_open());
  EXPECT_TRUE(client.non_blocking());
  const auto after = epoll_events_of(client.native_handle());
  ASSERT_TRUE(after.has_value()) << "the socket left the reactor";
  EXPECT_EQ(*after & EPOLLOUT, 0u);
  EXPECT_NE(*after & EPOLLIN, 0u);

  // Both ways, through the reactor.
  std::string sent = "ping", echoed(4, '\0');
  asio::async_write(client, asio::buffer(sent), [](const boost::system::error_code& ec, size_t) {
    EXPECT_FALSE(ec) << ec.message();
  });
  std::string at_server(4, '\0');
  asio::async_read(server, asio::buffer(at_server),
                   [&](const boost::system::error_code& ec, size_t) {
                     ASSERT_FALSE(ec) << ec.message();
                     asio::write(server, asio::buffer(at_server));
                   });
  asio::async_read(client, asio::buffer(echoed), [](const boost::system::error_code& ec, size_t) {
    EXPECT_FALSE(ec) << ec.message();
  });
  io.run();
  EXPECT_EQ(echoed, "ping");
}

}  // namespace
}  // namespace smppd::session
