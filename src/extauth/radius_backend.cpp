// The RADIUS backend: an Access-Request to each server in turn, `retries` more times each when
// no answer comes within `timeout`, over UDP on the authenticator's I/O thread. Each try has its
// own socket (so its own port), identifier and Request Authenticator; what comes back that is
// not a valid answer to it (another id, a wrong authenticator) is ignored, and the wait goes on.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <openssl/rand.h>

#include <array>
#include <atomic>

#include "extauth/backends.hpp"
#include "extauth/client_settings.hpp"
#include "extauth/radius_packet.hpp"

namespace smppd::extauth {

namespace {

namespace asio = boost::asio;
using udp = asio::ip::udp;
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

class RadiusBackend final : public Backend, public std::enable_shared_from_this<RadiusBackend> {
 public:
  RadiusBackend(asio::any_io_executor ex, const config::RadiusAuth& c,
                const config::ExternalDefaults& defaults, Upstreams upstreams)
      : ex_(std::move(ex)), c_(c), defaults_(defaults), upstreams_(std::move(upstreams)) {}

  std::string_view name() const override { return "radius"; }
  config::Duration cache_ttl() const override { return c_.cache_ttl; }

  // Asks at once (each a socket); beyond, an ask fails at once.
  static constexpr std::size_t kMaxInFlight = 256;

  void check(const Request& r, std::function<void(Verdict)> done) override {
    if (in_flight_.fetch_add(1) >= kMaxInFlight) {
      in_flight_.fetch_sub(1);
      Verdict v;
      v.error = "too many RADIUS asks in flight (" + std::to_string(kMaxInFlight) + ")";
      asio::post(ex_, [done = std::move(done), v = std::move(v)]() mutable { done(std::move(v)); });
      return;
    }
    asio::co_spawn(ex_, run(shared_from_this(), r,
                            [self = shared_from_this(), done = std::move(done)](Verdict v) {
                              self->in_flight_.fetch_sub(1);
                              done(std::move(v));
                            }),
                   asio::detached);
  }

 private:
  static asio::awaitable<void> run(std::shared_ptr<RadiusBackend> self, Request r,
                                   std::function<void(Verdict)> done) {
    Verdict v;
    radius::AccessRequest request;
    request.user_name = r.system_id;
    request.password = r.password;
    request.nas_identifier = self->c_.nas_identifier;
    request.calling_station_id = r.peer.is_v6() && r.peer.to_v6().is_v4_mapped()
                                     ? r.peer.to_v6().to_v4().to_string()
                                     : r.peer.to_string();
    request.called_station_id = r.listener;
    if (request.password.size() > 128) {
      // RADIUS cannot carry it: no one's password.
      v.kind = Verdict::Kind::refused;
      done(std::move(v));
      co_return;
    }
    std::string errors;
    for (const config::HostPort& server : self->c_.servers) {
      for (uint32_t attempt = 0; attempt <= self->c_.retries; ++attempt) {
        std::string error;
        bool unreachable = false;
        auto reply = co_await self->one_try(server, request, error, unreachable);
        if (!reply) {
          errors = server.to_string() + ": " + error;
          if (unreachable) break;  // nothing there: the next server at once
          continue;
        }
        if (reply->code != radius::kAccessAccept) {
          // An Access-Challenge asks for what a bind cannot give: a refusal too.
          v.kind = Verdict::Kind::refused;
          done(std::move(v));
          co_return;
        }
        SettingsBuilder builder(r.system_id, self->defaults_, self->upstreams_.get());
        for (const auto& [field, text] : reply->settings) {
          builder.source_name("vendor attribute " + std::string(to_string(field)));
          builder.add(field, text);
        }
        if (builder.failed()) {
          v.error = server.to_string() + ": Access-Accept of '" + r.system_id + "': " + builder.error();
        } else {
          v.kind = Verdict::Kind::accepted;
          v.client = builder.build();
        }
        done(std::move(v));
        co_return;
      }
    }
    v.error = errors.empty() ? "no server" : errors;
    done(std::move(v));
  }

  // `unreachable`: no server there (no address, port unreachable): trying again is no use.
  asio::awaitable<std::optional<radius::Reply>> one_try(const config::HostPort& server,
                                                        const radius::AccessRequest& request,
                                                        std::string& error, bool& unreachable) {
    udp::resolver resolver(ex_);
    asio::steady_timer timer(ex_, c_.timeout);
    auto [rec, endpoints] = co_await resolver.async_resolve(server.host, std::to_string(server.port), nothrow);
    if (rec || endpoints.empty()) {
      error = "cannot resolve: " + rec.message();
      unreachable = true;
      co_return std::nullopt;
    }
    const udp::endpoint to = endpoints.begin()->endpoint();
    udp::socket socket(ex_);
    boost::system::error_code ec;
    socket.open(to.protocol(), ec);
    if (!ec) socket.connect(to, ec);
    if (ec) {
      error = "cannot send: " + ec.message();
      unreachable = true;
      co_return std::nullopt;
    }
    std::array<uint8_t, 17> random{};
    RAND_bytes(random.data(), static_cast<int>(random.size()));
    radius::Authenticator ra{};
    std::copy(random.begin() + 1, random.end(), ra.begin());
    const uint8_t id = random[0];
    auto packet = radius::encode_access_request(id, ra, c_.secret, request);
    if (!packet) {
      error = "the password is longer than RADIUS carries (128 bytes)";
      co_return std::nullopt;
    }
    co_await socket.async_send(asio::buffer(*packet), nothrow);
    // The answer, or the timer: whichever comes first closes the other.
    std::array<uint8_t, 4096> in{};
    bool timed_out = false;
    timer.async_wait([&](const boost::system::error_code& e) {
      if (e) return;
      timed_out = true;
      boost::system::error_code ignored;
      socket.cancel(ignored);
    });
    while (true) {
      if (timed_out) {
        // The timer ran while a datagram that is not the answer was on its way in: the wait is
        // over all the same (a receive started now would have no timer).
        error = "no answer within " + std::to_string(c_.timeout.count()) + " ms";
        co_return std::nullopt;
      }
      auto [e, n] = co_await socket.async_receive(asio::buffer(in), nothrow);
      if (e) {
        timer.cancel();
        // The timer's handler may not have run yet: let it, before its socket goes.
        error = timed_out || e == asio::error::operation_aborted
                    ? "no answer within " + std::to_string(c_.timeout.count()) + " ms"
                    : "receive failed: " + e.message();
        if (e == asio::error::connection_refused) {
          error = "no answer (port unreachable)";
          unreachable = true;
        }
        co_await post_once();
        co_return std::nullopt;
      }
      auto reply = radius::decode_reply(std::span<const uint8_t>(in.data(), n), id, ra, c_.secret,
                                        c_.vendor_id, c_.require_message_authenticator);
      if (auto* r = std::get_if<radius::Reply>(&reply)) {
        timer.cancel();
        co_await post_once();
        co_return std::move(*r);
      }
      error = std::get<std::string>(reply);  // kept, should no valid answer come
    }
  }

  // Yields once, so that a cancelled timer's handler runs before the frame it uses is gone.
  asio::awaitable<void> post_once() {
    asio::steady_timer t(ex_, std::chrono::milliseconds(0));
    co_await t.async_wait(nothrow);
  }

  asio::any_io_executor ex_;
  const config::RadiusAuth c_;
  const config::ExternalDefaults defaults_;
  Upstreams upstreams_;
  std::atomic<std::size_t> in_flight_{0};
};

}  // namespace

std::shared_ptr<Backend> make_radius_backend(asio::any_io_executor executor,
                                             const config::RadiusAuth& c,
                                             const config::ExternalDefaults& defaults,
                                             Upstreams upstreams) {
  return std::make_shared<RadiusBackend>(std::move(executor), c, defaults, std::move(upstreams));
}

}  // namespace smppd::extauth
