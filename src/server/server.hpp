// The daemon: builds every component from one configuration snapshot, starts them, and stops
// them in reverse order on SIGTERM/SIGINT (stop accepting, unbind every session, wait for
// in-flight responses up to the grace period, exit). SIGHUP is logged and ignored.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/counters.hpp"
#include "core/log.hpp"

namespace smppd::server {

// The logger's level for a configured one.
log::Level log_level(config::LogLevel level);

// What a reload did (Server::reload).
struct ReloadResult {
  bool ok = false;
  std::vector<std::string> errors;  // "FILE:LINE:COLUMN: error: ..." (invalid: nothing applied)
  std::vector<std::string> applied;
  std::vector<std::string> restart_needed;
};

struct ServerOptions {
  std::size_t threads = 0;  // 0: one per core
  std::chrono::milliseconds shutdown_grace{10000};
  bool handle_signals = true;
};

class Server {
 public:
  Server(std::shared_ptr<const config::Config> config, ServerOptions options = {});
  ~Server();

  // Runs until shutdown; returns the process exit code (0 after a graceful stop, 1 when
  // start-up failed).
  int run();
  // Asks a running server to stop gracefully (thread safe).
  void shutdown();

  // Reads the configuration file again and, when it is valid as a whole, applies what can
  // change live (Gateway::reconfigure for routes and upstreams; clients, for the next bind, a
  // removed client's sessions unbound; listeners added, removed, moved or changed, their
  // sessions kept; the log level). What needs a restart (storage, metrics, management,
  // tracing, the log's format and output, the cluster) is named and left as it was. Invalid: the
  // running configuration stays and the errors (file:line) are returned. Thread safe, one at a
  // time; not on a worker thread (it waits for them).
  ReloadResult reload(std::string_view why);

  // Endpoints actually bound, by listener name (valid once running; port 0 resolved).
  std::vector<std::pair<std::string, boost::asio::ip::tcp::endpoint>> endpoints() const;
  Counters& counters() { return counters_; }

 private:
  void wait_for_hangup();
  // A listener of type http: the REST API. Throws std::runtime_error when it cannot listen.
  void start_http_listener(const config::ListenerConfig& l);
  // An HTTP listener's API and server, not started.
  struct HttpListener;
  void start_grpc_listener(const config::ListenerConfig& l);
  HttpListener make_http_listener(const config::ListenerConfig& l);
  void reload_listeners(const config::Config& next, ReloadResult& result);
  void flush_logs_every_second();

  struct State;
  std::unique_ptr<State> state_;
  Counters counters_;
};

}  // namespace smppd::server
