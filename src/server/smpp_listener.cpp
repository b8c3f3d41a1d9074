#include "server/smpp_listener.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <future>
#include <optional>
#include <stdexcept>

#include "core/log.hpp"
#include "net/endpoint.hpp"
#include "net/tls.hpp"
#include "smpp/status.hpp"

namespace smppd::server {

namespace {

using tcp = asio::ip::tcp;
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

std::string_view bind_mode(smpp::CommandId id) {
  switch (id) {
    case smpp::CommandId::bind_transmitter:
      return "transmitter";
    case smpp::CommandId::bind_receiver:
      return "receiver";
    default:
      return "transceiver";
  }
}

config::BindType bind_type(smpp::CommandId id) {
  switch (id) {
    case smpp::CommandId::bind_transmitter:
      return config::BindType::transmitter;
    case smpp::CommandId::bind_receiver:
      return config::BindType::receiver;
    default:
      return config::BindType::transceiver;
  }
}

// The backends' answer to `request`, on `ex` (the session's executor).
asio::awaitable<extauth::Answer> ask(extauth::Authenticator& backends, extauth::Request request,
                                     asio::any_io_executor ex) {
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(extauth::Answer)>(
      [&backends, ex](auto handler, extauth::Request r) {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        backends.authenticate(std::move(r), [ex, h](extauth::Answer a) {
          asio::post(ex, [h, a = std::move(a)]() mutable { std::move (*h)(std::move(a)); });
        });
      },
      asio::use_awaitable, std::move(request));
}

// The handler of one ESME session: authenticates its bind and answers its requests.
class ClientHandler final : public session::SessionHandler {
 public:
  ClientHandler(std::shared_ptr<SmppListener> listener, limits::ConnectionLease lease)
      : listener_(std::move(listener)), lease_(std::move(lease)) {
    listener_->context().counters.add_signed(listener_->unbound_gauge(), 1);
  }

  asio::awaitable<uint32_t> on_bind(session::Session& s,
                                    const session::BindRequest& bind) override {
    namespace st = smpp::status;
    auto& ctx = listener_->context();
    const auto peer = net::address_bytes(s.remote().address());
    const auto now = std::chrono::steady_clock::now();
    std::string_view reason;
    uint32_t status = st::ESME_ROK;
    // The clients in effect when the bind came; `client` points into it (or into `external`).
    const std::shared_ptr<const auth::ClientDirectory> directory = ctx.clients->get();
    const config::ClientConfig* client = nullptr;
    std::chrono::milliseconds delay{0};
    if (!listener_->bind_rate().try_take(now)) {
      status = st::ESME_RTHROTTLED;
      reason = "bind_rate";
    } else {
      // Password guessing is limited in attempts, not only in replies: past its limits a peer
      // (or a system_id, for peers it does not trust) is refused before the password is checked.
      auto& failures = *ctx.auth_failures;
      const config::ClientConfig* known = directory->find(bind.system_id);
      extauth::Authenticator* backends =
          known == nullptr && ctx.external_auth != nullptr && ctx.external_auth->enabled()
              ? ctx.external_auth
              : nullptr;
      // An external client is counted per system_id as a configured one is.
      const auto attempt = failures.begin_attempt(
          peer.view(), bind.system_id, known != nullptr || backends != nullptr,
          known && auth::ClientDirectory::pins_address(*known, peer.view()), now);
      using Verdict = auth::AuthFailureThrottle::Verdict;
      if (attempt.verdict == Verdict::peer_locked) {
        status = st::ESME_RBINDFAIL;
        reason = auth::reason::kIpLocked;
      } else if (attempt.verdict == Verdict::client_locked) {
        status = st::ESME_RBINDFAIL;
        reason = auth::reason::kSystemIdLocked;
        delay = attempt.reply_delay;
      } else {
        auth::AuthResult result;
        if (backends == nullptr) {
          result = directory->authenticate(bind.system_id, bind.password, peer.view(),
                                           bind_type(bind.command));
        } else {
          // Asked off this thread; this session waits, the others go on.
          extauth::Request request{bind.system_id, bind.password, s.remote().address(),
                                   bind_type(bind.command), listener_->name()};
          const extauth::Answer answer = co_await ask(*backends, std::move(request), s.executor());
          if (answer.ok()) {
            external_ = answer.client;
            result = auth::ClientDirectory::admit(*external_, peer.view(), bind_type(bind.command));
          } else {
            namespace r = auth::reason;
            result.reason = answer.reason;
            result.command_status = answer.reason == r::kUnknownSystemId ? st::ESME_RINVSYSID
                                    : answer.reason == r::kWrongPassword ? st::ESME_RINVPASWD
                                                                         : st::ESME_RBINDFAIL;
          }
        }
        // A right password is no guess, even when the bind type is not allowed.
        if (result.ok() || result.reason == auth::reason::kBindTypeNotAllowed) {
          failures.record_success(peer.view(), bind.system_id, attempt, now);
        } else if (result.reason == extauth::kBackendFailed) {
          // Nobody could say whether the password was right: not a guess either way.
          failures.forget_attempt(peer.view(), bind.system_id, attempt);
        } else {
          failures.record_failure(peer.view(), bind.system_id, attempt,
                                  result.reason == auth::reason::kWrongPassword, now);
        }
        if (!result.ok()) {
          status = result.command_status;
          reason = result.reason;
          delay = attempt.reply_delay;  // slows whoever guesses one at a time
          external_.reset();
        } else {
          client = result.client;
          if (auto refused = lease_.attach_client(client->system_id, client->max_connections)) {
            status = st::ESME_RBINDFAIL;
            reason = *refused;
            external_.reset();
          }
        }
      }
    }
    if (delay.count() > 0) {
      bind_delay_.emplace(s.executor(), delay);
      co_await bind_delay_->async_wait(nothrow);
      bind_delay_.reset();
    }
    if (status != st::ESME_ROK) {
      status = auth::bind_failure_reply(status, listener_->config().bind_failure_status);
      listener_->refused_binds_log()(
          reason, "listener {}: session {} from {}: bind_{} as '{}' refused: {} ({:#x})",
          listener_->name(), s.id(), net::endpoint_text(s.remote()), bind_mode(bind.command),
          bind.system_id, reason, status);
      ctx.counters.add("smppd_binds_rejected_total",
                       {{"listener", listener_->name()}, {"reason", reason}});
      co_return status;
    }
    log::info("listener {}: session {} from {}: bound as '{}' ({}, SMPP {}){}", listener_->name(),
              s.id(), net::endpoint_text(s.remote()), bind.system_id, bind_mode(bind.command),
              smpp::version_name(bind.version), external_ ? " (external authentication)" : "");
    ctx.counters.add("smppd_binds_total", {{"listener", listener_->name()},
                                           {"client", client->system_id},
                                           {"mode", bind_mode(bind.command)}});
    co_return status;
  }

  void on_bound(session::Session& s) override {
    auto& counters = listener_->context().counters;
    counters.add_signed(listener_->unbound_gauge(), -1);
    // Found once per bind: configured clients, and external ones that authenticated.
    bound_gauge_ = counters.gauge("smppd_connections_active",
                                  {{"type", "bound"}, {"client", s.system_id()}});
    counters.add_signed(*bound_gauge_, 1);
    state_.external = std::move(external_);
    listener_->context().gateway->client_bound(s, state_);
  }

  void on_request(session::Session& s, smpp::Pdu& request) override {
    listener_->context().gateway->client_request(s, state_, request);
  }

  void on_response(session::Session& s, uint64_t cookie, session::Outcome outcome,
                   smpp::Pdu* response) override {
    listener_->context().gateway->client_response(s, state_, cookie, outcome, response);
  }

  void on_window_open(session::Session&) override {
    listener_->context().gateway->client_window_open(state_);
  }

  void on_closed(session::Session& s, std::string_view reason) override {
    auto& ctx = listener_->context();
    const auto& st = s.stats();
    if (s.system_id().empty()) {
      // Never bound: anyone can make these at will.
      listener_->unbound_closes_log()(reason, "listener {}: session {} from {}: closed: {}",
                                      listener_->name(), s.id(), net::endpoint_text(s.remote()), reason);
    } else {
      log::info("listener {}: session {} from {} as {}: closed: {}", listener_->name(), s.id(),
                net::endpoint_text(s.remote()), s.system_id(), reason);
    }
    ctx.counters.add("smppd_sessions_closed_total", {{"listener", listener_->name()}});
    if (reason.starts_with("TLS handshake failed")) {
      ctx.counters.add("smppd_tls_handshake_failures_total",
                       {{"side", "client"}, {"name", listener_->name()}});
    }
    ctx.counters.add_signed(bound_gauge_ ? *bound_gauge_ : listener_->unbound_gauge(), -1);
    if (st.decode_errors > 0) {
      ctx.counters.add("smppd_protocol_errors_total",
                       {{"listener", listener_->name()}, {"kind", "undecodable"}},
                       st.decode_errors);
    }
    if (st.rejected_state > 0) {
      ctx.counters.add("smppd_protocol_errors_total",
                       {{"listener", listener_->name()}, {"kind", "wrong_state"}},
                       st.rejected_state);
    }
    if (st.refused_shutting_down > 0) {
      ctx.counters.add("smppd_requests_refused_total",
                       {{"listener", listener_->name()}, {"reason", "shutting_down"}},
                       st.refused_shutting_down);
    }
    if (st.output_pauses > 0) {
      // Times the peer made smppd stop reading by not reading its responses.
      ctx.counters.add("smppd_output_pauses_total", {{"listener", listener_->name()}},
                       st.output_pauses);
    }
    if (st.tlvs_stripped > 0) {
      ctx.counters.add("smppd_tlvs_stripped_total", {{"listener", listener_->name()}},
                       st.tlvs_stripped);
    }
    ctx.gateway->client_closed(s, state_);
    lease_.release();
    // A closed session's bind reply is moot: do not keep the worker (and shutdown) waiting.
    if (bind_delay_) bind_delay_->cancel();
  }

 private:
  std::optional<CounterId> bound_gauge_;  // once bound: smppd_connections_active{client}
  std::shared_ptr<SmppListener> listener_;
  limits::ConnectionLease lease_;
  std::optional<asio::steady_timer> bind_delay_;  // while a failed bind's reply is held
  // An external client's settings, from its bind's answer until it is bound.
  std::shared_ptr<const config::ClientConfig> external_;
  gateway::ClientState state_;
};

}  // namespace

session::SessionSettings listener_session_settings(const config::ListenerConfig& c) {
  session::SessionSettings s;
  s.role = session::Role::smsc;
  s.system_id = "smppd";
  s.versions = c.smpp.versions;
  s.auto_negotiate = c.smpp.auto_negotiate;
  s.bind_timeout = c.timeouts.bind;
  s.response_timeout = c.timeouts.response;
  s.enquire_link_interval = c.smpp.enquire_link_interval;
  s.enquire_link_timeout = c.smpp.enquire_link_timeout;
  s.read_timeout = c.timeouts.read;
  s.write_timeout = c.timeouts.write;
  s.idle_timeout = c.timeouts.idle;
  s.window_size = c.smpp.window_size;
  // A client's unbind waits for the answers of its last requests: long enough for an upstream
  // to answer them or for its response timeout to (an upstream's default is the same 30 s).
  s.unbind_grace = 2 * c.timeouts.response;
  return s;
}

SmppListener::SmppListener(const config::ListenerConfig& config, ListenerContext context)
    : config_(config),
      context_(std::move(context)),
      settings_(std::make_shared<const session::SessionSettings>([&] {
        session::SessionSettings s = listener_session_settings(config);
        s.pdu_counters = context_.pdu_counters.get();
        return s;
      }())),
      filter_(config),
      connection_rate_(limits::TokenBucket::connections(config.rate_limit)),
      bind_rate_(limits::TokenBucket::binds(config.rate_limit)),
      limits_(limits::ConnectionLimits::Limits::of(config), context_.client_sessions),
      acceptor_(context_.workers.context(0)),
      unbound_gauge_(context_.counters.gauge("smppd_connections_active",
                                             {{"type", "unbound"}, {"client", ""}})) {
  if (config.tls.enabled) {
    auto result = net::make_server_tls_context(config.tls);
    if (!result.context) {
      throw std::runtime_error("listener " + config.name + ": " + result.error);
    }
    tls_ = std::move(result.context);
  }
}

tcp::endpoint SmppListener::hand_over(SmppListener& next) {
  std::promise<tcp::endpoint> done;
  auto handed = done.get_future();
  asio::post(acceptor_.get_executor(), [&] {
    boost::system::error_code ec;
    const tcp::endpoint at = acceptor_.local_endpoint(ec);
    const auto protocol = at.protocol();
    // Cancels this listener's accept (its loop ends) without closing the socket.
    const auto handle = acceptor_.release(ec);
    next.acceptor_.assign(protocol, handle, ec);
    asio::co_spawn(next.acceptor_.get_executor(), next.accept_loop(), asio::detached);
    done.set_value(at);
  });
  return handed.get();
}

tcp::endpoint listen_endpoint(const config::ListenerConfig& l, asio::io_context& context) {
  boost::system::error_code ec;
  const std::string& host = l.address.host;
  asio::ip::address address = host.empty() ? asio::ip::address(asio::ip::address_v6::any())
                                           : asio::ip::make_address(host, ec);
  if (ec) {
    // A host name: resolve it once at start-up.
    tcp::resolver resolver(context);
    auto results = resolver.resolve(host, std::to_string(l.address.port), ec);
    if (ec || results.empty()) {
      throw std::runtime_error("listener " + l.name + ": cannot resolve '" + host +
                               "': " + ec.message());
    }
    address = results.begin()->endpoint().address();
  }
  return tcp::endpoint(address, l.address.port);
}

tcp::endpoint SmppListener::start() {
  boost::system::error_code ec;
  const std::string& host = config_.address.host;
  const tcp::endpoint endpoint = listen_endpoint(config_, context_.workers.context(0));
  const asio::ip::address address = endpoint.address();
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec && address.is_v6() && host.empty()) {
    acceptor_.set_option(asio::ip::v6_only(false), ec);  // ":2775" takes IPv4 and IPv6
    ec.clear();
  }
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    throw std::runtime_error("listener " + config_.name + ": cannot listen on " +
                             config_.address.to_string() + ": " + ec.message());
  }
  const tcp::endpoint bound = acceptor_.local_endpoint();
  asio::co_spawn(acceptor_.get_executor(), accept_loop(), asio::detached);
  return bound;
}

std::future<void> SmppListener::stop_accepting() {
  auto closed = std::make_shared<std::promise<void>>();
  auto f = closed->get_future();
  asio::post(acceptor_.get_executor(), [self = shared_from_this(), closed] {
    boost::system::error_code ignored;
    self->acceptor_.close(ignored);
    closed->set_value();
  });
  return f;
}

asio::awaitable<void> SmppListener::accept_loop() {
  auto self = shared_from_this();
  while (acceptor_.is_open()) {
    const std::size_t worker = context_.workers.pick();
    auto [ec, socket] = co_await acceptor_.async_accept(context_.workers.context(worker), nothrow);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) break;
      // Out of descriptors or memory: say so, breathe, go on.
      log::warn("listener {}: accept failed: {}", config_.name, ec.message());
      context_.counters.add("smppd_accept_errors_total", {{"listener", config_.name}});
      asio::steady_timer pause(acceptor_.get_executor(), std::chrono::milliseconds(100));
      co_await pause.async_wait(nothrow);
      continue;
    }
    admit(std::move(socket), worker);
  }
}

void SmppListener::refuse(tcp::socket& socket, const std::string& peer, std::string_view reason) {
  refused_connections_log_(reason, "listener {}: connection from {} refused: {}", config_.name,
                           peer, reason);
  context_.counters.add("smppd_connections_rejected_total",
                        {{"listener", config_.name}, {"reason", reason}});
  boost::system::error_code ignored;
  socket.close(ignored);
}

void SmppListener::admit(tcp::socket socket, std::size_t worker) {
  boost::system::error_code ec;
  const tcp::endpoint remote = socket.remote_endpoint(ec);
  if (ec) return;  // already gone
  const std::string peer = net::endpoint_text(remote);
  const auto address = net::address_bytes(remote.address());
  if (auto reason = filter_.reject_reason(address.view())) {
    refuse(socket, peer, *reason);
    return;
  }
  if (!connection_rate_.try_take(std::chrono::steady_clock::now())) {
    refuse(socket, peer, "connection_rate");
    return;
  }
  limits::Admission admission = limits_.acquire_connection(address.view());
  if (!admission) {
    refuse(socket, peer, admission.reason);
    return;
  }
  socket.set_option(tcp::no_delay(true), ec);
  context_.counters.add("smppd_connections_total", {{"listener", config_.name}});
  log::debug("listener {}: connection from {}", config_.name, peer);
  asio::post(context_.workers.context(worker), [self = shared_from_this(), worker,
                                                socket = std::move(socket),
                                                lease = std::move(admission.lease)]() mutable {
    if (self->context_.stopping->load()) return;  // shutting down: the socket closes
    auto handler = std::make_unique<ClientHandler>(self, std::move(lease));
    session::Transport transport = self->tls_ ? session::Transport(std::move(socket), *self->tls_)
                                              : session::Transport(std::move(socket));
    auto s = std::make_shared<session::Session>(std::move(transport), self->settings_,
                                                std::move(handler),
                                                &self->context_.workers.sessions(worker));
    s->start();
  });
}

}  // namespace smppd::server
