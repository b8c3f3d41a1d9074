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

namespace smppd::server {

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

  // Endpoints actually bound, by listener name (valid once running; port 0 resolved).
  std::vector<std::pair<std::string, boost::asio::ip::tcp::endpoint>> endpoints() const;
  Counters& counters() { return counters_; }

 private:
  void wait_for_hangup();
  void flush_logs_every_second();

  struct State;
  std::unique_ptr<State> state_;
  Counters counters_;
};

}  // namespace smppd::server
