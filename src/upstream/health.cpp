#include "upstream/health.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <memory>

namespace smppd::upstream {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

HostHealth::Change HostHealth::record(bool ok, const config::HealthConfig& config) {
  if (ok) {
    failures_ = 0;
    if (healthy_) return Change::none;
    if (++successes_ < config.recovery_threshold) return Change::none;
    successes_ = 0;
    healthy_ = true;
    return Change::became_healthy;
  }
  successes_ = 0;
  if (!healthy_) return Change::none;
  if (++failures_ < config.threshold) return Change::none;
  failures_ = 0;
  healthy_ = false;
  return Change::became_unhealthy;
}

asio::awaitable<std::string> tcp_check(const config::HostPort& address, session::Duration timeout) {
  constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
  auto executor = co_await asio::this_coro::executor;
  // The watchdog shares the attempt, not this frame: its handler may run after the frame is
  // gone (it fired just as the connect completed).
  struct Attempt {
    explicit Attempt(const asio::any_io_executor& e) : resolver(e), socket(e) {}
    tcp::resolver resolver;
    tcp::socket socket;
    bool timed_out = false;
  };
  auto attempt = std::make_shared<Attempt>(executor);
  asio::steady_timer watchdog(executor, timeout);
  watchdog.async_wait([attempt](const boost::system::error_code& ec) {
    if (ec) return;
    attempt->timed_out = true;
    attempt->resolver.cancel();
    boost::system::error_code ignored;
    attempt->socket.close(ignored);
  });
  auto [rec, results] =
      co_await attempt->resolver.async_resolve(address.host, std::to_string(address.port), nothrow);
  boost::system::error_code ec = rec;
  if (!ec && !attempt->timed_out) {
    auto [cec, endpoint] = co_await asio::async_connect(attempt->socket, results, nothrow);
    ec = cec;
  }
  watchdog.cancel();
  boost::system::error_code ignored;
  attempt->socket.close(ignored);
  if (attempt->timed_out) co_return "no connection within the timeout";
  if (ec) co_return "cannot connect: " + ec.message();
  co_return std::string();
}

smpp::Pdu submit_probe() {
  smpp::SubmitSm s;
  s.destination_addr.assign("0");
  s.registered_delivery = 0;
  return smpp::make_pdu(0, std::move(s));
}

}  // namespace smppd::upstream
