// What an operator sees and steers while smppd runs: the Prometheus endpoint (`metrics`) and
// the management API (`management`), each an HTTP server (api/http) on a thread of their own,
// so that a scrape or an API call never runs on a worker that carries messages. What they need
// from the workers (the sessions each one runs) they ask it for and wait a bounded time.
//
// Management API (JSON; every error is {"error", "detail"}; `auth` basic or bearer, compared in
// constant time, else 401):
//   GET    /api/status                    version, uptime, config file and hash, listeners, counts
//   GET    /api/clients                   configured clients, their sessions and messages
//   GET    /api/clients/{id}              one client
//   DELETE /api/clients/{id}/connections  unbinds its sessions (in-flight messages finish)
//   GET    /api/upstreams                 hosts, connections and states, health, queue
//   GET    /api/upstreams/{name}          one upstream
//   POST   /api/upstreams/{name}/suspend  no new messages go to it (they wait or fail over)
//   POST   /api/upstreams/{name}/resume
//   GET    /api/routes                    routes and how often each matched
//   GET    /api/messages/{id}             a message by the id its client was given
//   POST   /api/config/reload             reads the file again (Server::reload); 422 when invalid
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "core/counters.hpp"
#include "server/server.hpp"

namespace smppd::gateway {
class Gateway;
}
namespace smppd::store {
class Store;
}
namespace smppd::cluster {
class Node;
}
namespace smppd::tracing {
class OtlpExporter;
}

namespace smppd::server {

class WorkerPool;
class MnpLookups;

struct OperationsParts {
  std::shared_ptr<const config::Config> config;
  Counters& counters;
  WorkerPool& workers;
  gateway::Gateway& gateway;
  store::Store* store = nullptr;  // with storage
  // The daemon's endpoints by listener name (SMPP listeners, simulators).
  std::function<std::vector<std::pair<std::string, boost::asio::ip::tcp::endpoint>>()> endpoints;
  // POST /api/config/reload.
  std::function<ReloadResult()> reload;
  // With tracing: its counts become metrics.
  const tracing::OtlpExporter* exporter = nullptr;
  // The MNP lookups: their counts become metrics.
  const MnpLookups* mnp = nullptr;
  // cluster.enabled: the nodes, in /api/status and the metrics.
  const cluster::Node* cluster = nullptr;
};

// The SHA-256 of a file's bytes (hex), empty when it cannot be read: the configuration's hash
// in /api/status and in what a cluster node says of itself.
std::string config_file_sha256(const std::string& path);

class Operations {
 public:
  explicit Operations(OperationsParts parts);
  ~Operations();

  // Starts the enabled servers; returns their endpoints ("metrics", "management"). Throws
  // std::runtime_error when one cannot listen or its TLS set-up fails.
  std::vector<std::pair<std::string, boost::asio::ip::tcp::endpoint>> start();
  void stop();
  // After a reload: what the API shows (its own address and credentials stay as they were).
  void reconfigure(std::shared_ptr<const config::Config> next);
  // The Prometheus text, made on the operations' thread and handed to `done` there (for
  // /v1/metrics on the HTTP listeners).
  void metrics_text(std::function<void(std::string)> done);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Constant-time comparison of two secrets (of any lengths): their SHA-256 digests are compared
// with CRYPTO_memcmp, so neither the content nor the length of the expected one leaks through
// timing.
bool same_secret(std::string_view a, std::string_view b);

}  // namespace smppd::server
