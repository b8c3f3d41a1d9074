// register_for_reads_only: what the kernel's epoll set holds for a connected socket, read from
// /proc/self/fdinfo (each epoll descriptor lists its targets as "tfd: FD events: MASK ...").
#include "session/transport.hpp"

#include <gtest/gtest.h>
#include <sys/epoll.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

namespace smppd::session {
namespace {

// The events this process's epoll sets wait for on `fd` (nullopt: in none of them).
std::optional<uint32_t> epoll_events_of(int fd) {
  std::optional<uint32_t> events;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fdinfo")) {
    std::ifstream in(entry.path());
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("tfd:", 0) != 0) continue;
      std::istringstream fields(line);
      std::string tfd, events_key, mask;
      int target = -1;
      fields >> tfd >> target >> events_key >> mask;
      if (target == fd && events_key == "events:") {
        events = events.value_or(0) | static_cast<uint32_t>(std::stoul(mask, nullptr, 16));
      }
    }
  }
  return events;
}

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

  register_for_reads_only(client);
  ASSERT_TRUE(client.is_open());
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

TEST(Transport, ASocketThatIsNotConnectedIsLeftAsItIs) {
  asio::io_context io;
  tcp::socket socket(io);
  register_for_reads_only(socket);  // not open: nothing to hand over
  EXPECT_FALSE(socket.is_open());
}

}  // namespace
}  // namespace smppd::session
