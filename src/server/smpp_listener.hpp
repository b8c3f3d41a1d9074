// An SMPP listener: accepts connections, applies the listener's admission rules (blocked and
// allowed addresses, connection rate, connection limits) before a session exists, then runs
// each accepted connection as a Session on a worker thread with a ClientHandler that
// authenticates its bind. Every refusal is logged with its reason and counted.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <atomic>
#include <future>
#include <memory>
#include <mutex>
#include <string>

#include "auth/clients.hpp"
#include "auth/throttle.hpp"
#include "config/config.hpp"
#include "core/counters.hpp"
#include "core/log_aggregate.hpp"
#include "extauth/authenticator.hpp"
#include "gateway/gateway.hpp"
#include "limits/connection_limits.hpp"
#include "limits/ip_filter.hpp"
#include "limits/token_bucket.hpp"
#include "server/workers.hpp"
#include "session/session.hpp"

namespace smppd::server {

// The clients binds are checked against: replaced whole on reload; a bind reads the one in
// effect when it starts.
class ClientsSource {
 public:
  explicit ClientsSource(std::shared_ptr<const auth::ClientDirectory> d) : directory_(std::move(d)) {}
  std::shared_ptr<const auth::ClientDirectory> get() const {
    std::lock_guard lock(mutex_);
    return directory_;
  }
  void set(std::shared_ptr<const auth::ClientDirectory> d) {
    std::lock_guard lock(mutex_);
    directory_ = std::move(d);
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const auth::ClientDirectory> directory_;
};

// What every listener shares with the others.
struct ListenerContext {
  WorkerPool& workers;
  Counters& counters;
  std::shared_ptr<ClientsSource> clients;
  std::shared_ptr<auth::AuthFailureThrottle> auth_failures;
  std::shared_ptr<limits::ClientSessionCounter> client_sessions;  // across listeners
  std::shared_ptr<std::atomic<bool>> stopping;                    // set once shutdown begins
  gateway::Gateway* gateway = nullptr;                            // the message path
  std::shared_ptr<const session::PduCounters> pdu_counters;       // side "client"; may be null
  // Asked for a system_id that is not in `clients` (the `auth` section); null when none is.
  extauth::Authenticator* external_auth = nullptr;
};

class SmppListener : public std::enable_shared_from_this<SmppListener> {
 public:
  // Throws std::runtime_error when the TLS set-up or the address is unusable (start-up).
  SmppListener(const config::ListenerConfig& config, ListenerContext context);

  // Binds and starts accepting on worker 0. Returns the bound endpoint.
  asio::ip::tcp::endpoint start();
  // Stops accepting (existing sessions go on). The listening socket is closed on worker 0: the
  // future is ready once it is (a reload waits for it, so that the port it reports removed
  // accepts nothing more; never wait for it on worker 0).
  std::future<void> stop_accepting();
  // Reload, same address: this listener stops accepting and gives its listening socket, open,
  // to `next` (which accepts from then on with its own settings): no connection is refused in
  // between. Waits until done.
  asio::ip::tcp::endpoint hand_over(SmppListener& next);

  const std::string& name() const { return config_.name; }
  const config::ListenerConfig& config() const { return config_; }
  ListenerContext& context() { return context_; }
  const std::shared_ptr<const session::SessionSettings>& session_settings() const {
    return settings_;
  }
  limits::SharedTokenBucket& bind_rate() { return bind_rate_; }

  // What peers without credentials can make the listener say at will, aggregated by reason
  // (log_aggregate.hpp): refused connections and binds, sessions that close before a bind.
  log::AggregatedByKey& refused_binds_log() { return refused_binds_log_; }
  // smppd_connections_active{type="unbound"}: connections not bound (yet).
  CounterId unbound_gauge() const { return unbound_gauge_; }
  log::AggregatedByKey& unbound_closes_log() { return unbound_closes_log_; }

 private:
  asio::awaitable<void> accept_loop();
  void admit(asio::ip::tcp::socket socket, std::size_t worker);
  void refuse(asio::ip::tcp::socket& socket, const std::string& peer, std::string_view reason);

  config::ListenerConfig config_;
  ListenerContext context_;
  std::shared_ptr<const session::SessionSettings> settings_;
  std::shared_ptr<asio::ssl::context> tls_;
  limits::IpFilter filter_;
  limits::SharedTokenBucket connection_rate_;
  limits::SharedTokenBucket bind_rate_;
  limits::ConnectionLimits limits_;
  asio::ip::tcp::acceptor acceptor_;
  CounterId unbound_gauge_;
  log::AggregatedByKey refused_connections_log_{log::Level::info, "refused connections"};
  log::AggregatedByKey refused_binds_log_{log::Level::info, "refused binds"};
  log::AggregatedByKey unbound_closes_log_{log::Level::info, "connections closed before a bind"};
};

// Where a listener listens: its address, a host name resolved once; an empty host is every
// address, IPv4 and IPv6. Throws std::runtime_error naming the listener when it cannot resolve.
boost::asio::ip::tcp::endpoint listen_endpoint(const config::ListenerConfig& l,
                                               boost::asio::io_context& context);

// Builds the session settings of a listener from its configuration.
session::SessionSettings listener_session_settings(const config::ListenerConfig& config);

}  // namespace smppd::server
