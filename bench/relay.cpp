// smpp_relay: the cheapest possible process in the middle, as a yardstick for smppd. It accepts
// on --listen and connects each connection to --target, then copies bytes both ways: one
// thread, epoll, one read and one write per event, TCP_NODELAY, no parsing. What it adds to
// loadgen -> sink latency is what one more process hop costs on the machine, before any work:
// smppd cannot add less than that.
//
//   smpp_relay --listen 127.0.0.1:0 --target 127.0.0.1:2775
// Prints "relay listening on 127.0.0.1:PORT" once ready; runs until killed.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

bool parse_address(const std::string& text, sockaddr_in& out) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) return false;
  std::memset(&out, 0, sizeof out);
  out.sin_family = AF_INET;
  out.sin_port = htons(static_cast<uint16_t>(std::stoi(text.substr(colon + 1))));
  return inet_pton(AF_INET, text.substr(0, colon).c_str(), &out.sin_addr) == 1;
}

void no_delay(int fd) {
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// Writes all of it; the peer is on loopback and reads fast, so a full socket buffer is waited
// out by polling rather than queued (this is a yardstick, not a product).
bool write_all(int fd, const char* data, std::size_t n) {
  while (n > 0) {
    const ssize_t w = write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return false;
    }
    data += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"smpp_relay: a byte relay, the yardstick for one more process hop"};
  std::string listen_text = "127.0.0.1:0";
  std::string target_text;
  app.add_option("--listen", listen_text, "HOST:PORT to accept on (IPv4)");
  app.add_option("--target", target_text, "HOST:PORT to connect each connection to")->required();
  CLI11_PARSE(app, argc, argv);

  sockaddr_in listen_at{}, target{};
  if (!parse_address(listen_text, listen_at) || !parse_address(target_text, target)) {
    std::fprintf(stderr, "smpp_relay: addresses are IPv4 HOST:PORT\n");
    return 2;
  }
  const int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(ls, reinterpret_cast<sockaddr*>(&listen_at), sizeof listen_at) != 0 ||
      listen(ls, 128) != 0) {
    std::perror("smpp_relay: listen");
    return 1;
  }
  socklen_t len = sizeof listen_at;
  getsockname(ls, reinterpret_cast<sockaddr*>(&listen_at), &len);
  std::printf("relay listening on %s:%u\n", inet_ntoa(listen_at.sin_addr),
              static_cast<unsigned>(ntohs(listen_at.sin_port)));
  std::fflush(stdout);

  const int ep = epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = ls;
  epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
  std::unordered_map<int, int> peer;
  std::vector<char> buffer(256 * 1024);
  std::array<epoll_event, 64> events{};
  auto close_pair = [&](int fd) {
    auto it = peer.find(fd);
    if (it == peer.end()) return;
    const int other = it->second;
    peer.erase(fd);
    peer.erase(other);
    close(fd);
    close(other);
  };
  while (true) {
    const int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), -1);
    if (n < 0 && errno == EINTR) continue;
    for (int i = 0; i < n; ++i) {
      const int fd = events[static_cast<std::size_t>(i)].data.fd;
      if (fd == ls) {
        const int c = accept4(ls, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) continue;
        const int d = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (connect(d, reinterpret_cast<sockaddr*>(&target), sizeof target) != 0) {
          close(c);
          close(d);
          continue;
        }
        no_delay(c);
        no_delay(d);
        peer[c] = d;
        peer[d] = c;
        for (int s : {c, d}) {
          epoll_event e{};
          e.events = EPOLLIN;
          e.data.fd = s;
          epoll_ctl(ep, EPOLL_CTL_ADD, s, &e);
        }
        continue;
      }
      auto it = peer.find(fd);
      if (it == peer.end()) continue;
      const ssize_t r = read(fd, buffer.data(), buffer.size());
      if (r <= 0) {
        if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        close_pair(fd);
        continue;
      }
      if (!write_all(it->second, buffer.data(), static_cast<std::size_t>(r))) close_pair(fd);
    }
  }
}
