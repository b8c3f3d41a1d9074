#include "server/server.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "api/grpc/grpc_api.hpp"
#include "api/http/server.hpp"
#include "api/callbacks/http_callbacks.hpp"
#include "api/rest/http_api.hpp"
#include "auth/clients.hpp"
#include "auth/throttle.hpp"
#include "cluster/node.hpp"
#include "config/loader.hpp"
#include "core/build_info.hpp"
#include "core/log.hpp"
#include "core/log_aggregate.hpp"
#include "gateway/gateway.hpp"
#include "gateway/route_scripts.hpp"
#include "net/endpoint.hpp"
#include "net/tls.hpp"
#include "extauth/authenticator.hpp"
#include "server/mnp_lookups.hpp"
#include "server/operations.hpp"
#include "server/service_notify.hpp"
#include "server/smpp_listener.hpp"
#include "server/workers.hpp"
#include "sim/simulator.hpp"
#include "store/sqlite_store.hpp"
#include "tracing/otlp_exporter.hpp"
#include "tracing/tracer.hpp"

namespace smppd::server {

namespace {
// The line the operator (and the tests) read a listener's address from.
void log_listening(std::string_view name, const asio::ip::tcp::endpoint& bound,
                   std::string_view what) {
  log::info("listener {} listening on {}{}", name, net::endpoint_text(bound), what);
}
}  // namespace

namespace {
// URLs (one, or several separated by spaces) as the log may show them: without user
// information or query (either may hold a secret). Showing too little is harmless.
std::string shown_url(const std::string& urls) {
  std::string out;
  std::size_t start = 0;
  while (start <= urls.size()) {
    std::size_t end = urls.find(' ', start);
    if (end == std::string::npos) end = urls.size();
    std::string url = urls.substr(start, end - start);
    start = end + 1;
    if (url.empty()) continue;
    if (const auto scheme = url.find("://"); scheme != std::string::npos) {
      if (const auto at = url.rfind('@'); at != std::string::npos && at > scheme) {
        url.erase(scheme + 3, at - scheme - 2);
      }
    }
    if (const auto q = url.find_first_of("?#"); q != std::string::npos) {
      url = url.substr(0, q) + "?...";
    }
    out += (out.empty() ? "" : " ") + url;
  }
  return out;
}

// "external backends ldap (ldap://...), http (https://...), in this order": no secrets.
std::string external_auth_text(const config::AuthConfig& a) {
  std::string out;
  for (config::AuthBackend b : a.order) {
    std::string one;
    if (b == config::AuthBackend::ldap && a.ldap.enabled) one = "ldap (" + shown_url(a.ldap.url) + ")";
    if (b == config::AuthBackend::radius && a.radius.enabled) {
      one = "radius (";
      for (std::size_t i = 0; i < a.radius.servers.size(); ++i) {
        one += (i > 0 ? " " : "") + a.radius.servers[i].to_string();
      }
      one += ")";
    }
    if (b == config::AuthBackend::http && a.http.enabled) one = "http (" + shown_url(a.http.url) + ")";
    if (!one.empty()) out += (out.empty() ? "" : ", ") + one;
  }
  return "external backends " + out + ", asked in this order for system_ids not in 'clients'";
}
}  // namespace

struct Server::HttpListener {
  config::ListenerConfig config;
  std::shared_ptr<rest::HttpApi> api;
  std::shared_ptr<http::Server> server;
};

struct Server::State {
  std::shared_ptr<const config::Config> config;
  ServerOptions options;
  std::unique_ptr<WorkerPool> workers;
  // External authentication (the `auth` section): answers binds on the workers, so it goes
  // before them; stopped once they are joined.
  std::unique_ptr<extauth::Authenticator> external_auth;
  std::vector<std::shared_ptr<SmppListener>> listeners;
  // Listeners of type http: the REST API on the HTTP server, connections on the workers.
  std::vector<HttpListener> http_listeners;
  // Built-in SMSC simulators (upstreams of type simulator), each on one worker.
  std::vector<std::pair<std::size_t, std::unique_ptr<sim::Simulator>>> simulators;
  // With storage: outlives the gateway that writes to it.
  std::unique_ptr<store::SqliteStore> store;
  // With tracing: the spans' buffer (outlives the gateway) and the thread that exports them.
  std::unique_ptr<tracing::Tracer> tracer;
  std::unique_ptr<tracing::OtlpExporter> exporter;
  std::unique_ptr<gateway::Gateway> gateway;
  // Receipts and MO to HTTP (destroyed before the gateway it serves).
  std::unique_ptr<callbacks::HttpCallbacks> callbacks;
  // The MNP lookups of routes by mcc/mnc/is_ported (the gateway's NumberLookup).
  std::unique_ptr<MnpLookups> mnp;
  // The metrics endpoint and the management API (on a thread of their own).
  // cluster.enabled: this node's membership in Redis (its own thread). Before the operations,
  // which read it: gone after them.
  std::unique_ptr<cluster::Node> cluster;
  std::unique_ptr<Operations> operations;
  // Listeners of type grpc (gRPC's own threads; answers from the workers). A change needs a
  // restart. Declared after the gateway they call: gone before it. Stopped by a thread of their
  // own (Shutdown waits for the calls in flight, which the workers answer: the thread keeps
  // the workers running until it is done), joined after the workers.
  std::vector<std::pair<config::ListenerConfig, std::unique_ptr<grpcapi::GrpcApi>>> grpc_listeners;
  std::vector<std::thread> grpc_stoppers;
  std::atomic<std::size_t> grpc_stopped{0};
  std::unique_ptr<asio::signal_set> signals;
  std::map<std::string, config::HostPort> simulator_addresses;
  std::shared_ptr<ClientsSource> clients;
  std::optional<ListenerContext> listener_context;
  std::mutex reload_mutex;  // one reload at a time
  bool reload_requested = false;  // by SIGHUP, for the main thread (under `mutex`)
  // SIGHUP: logged and ignored until reload exists (a logrotate postrotate or `systemctl
  // reload` must never stop the daemon).
  std::unique_ptr<asio::signal_set> hangups;
  // Says the counts of aggregated log lines (log_aggregate.hpp) every second.
  std::unique_ptr<asio::steady_timer> log_flush;
  // systemd (Type=notify): READY, RELOADING, STOPPING and the watchdog's pings.
  ServiceNotify notify;
  mutable std::mutex mutex;
  std::vector<std::pair<std::string, asio::ip::tcp::endpoint>> endpoints;
  std::once_flag stopping;
  std::condition_variable stop_requested_cv;
  bool stop_requested = false;
  std::shared_ptr<std::atomic<bool>> stopping_flag = std::make_shared<std::atomic<bool>>(false);
};

Server::Server(std::shared_ptr<const config::Config> config, ServerOptions options)
    : state_(std::make_unique<State>()) {
  state_->config = std::move(config);
  state_->options = options;
  std::size_t threads = options.threads;
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  state_->workers = std::make_unique<WorkerPool>(threads);
}

Server::~Server() = default;

std::vector<std::pair<std::string, asio::ip::tcp::endpoint>> Server::endpoints() const {
  std::lock_guard lock(state_->mutex);
  return state_->endpoints;
}

int Server::run() {
  State& st = *state_;
  const config::Config& cfg = *st.config;
  // In order: simulators (upstreams of type simulator), the message path with its upstream
  // pools, then the listeners that feed it.
  std::map<std::string, config::HostPort> simulator_addresses;
  // `validate` refuses any other backend.
  if (cfg.storage.enabled && cfg.storage.backend == config::StorageBackend::sqlite) {
    store::SqliteSettings settings;
    settings.path = cfg.storage.sqlite_path;
    settings.journal_mode = cfg.storage.sqlite_journal_mode;
    auto opened = store::SqliteStore::open(settings);
    if (auto* error = std::get_if<std::string>(&opened)) {
      log::error("{}", *error);
      return 1;
    }
    st.store = std::move(std::get<std::unique_ptr<store::SqliteStore>>(opened));
    log::info("store: {} (SQLite, journal_mode {}): messages are answered once stored, then "
              "sent",
              settings.path, settings.journal_mode);
  }
  try {
    for (const auto& u : cfg.upstreams) {
      if (u.type != config::UpstreamType::simulator) continue;
      // The simulator runs inside smppd on a loopback port of its own; its upstream pool
      // reaches it exactly as it reaches a real SMSC.
      const std::size_t worker = st.simulators.size() % st.workers->size();
      auto simulator = std::make_unique<sim::Simulator>(st.workers->context(worker), u.simulator);
      const auto bound =
          simulator->listen(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
      log::info("upstream {}: built-in SMSC simulator listening on 127.0.0.1:{}", u.name,
                bound.port());
      simulator_addresses[u.name] = config::HostPort{"127.0.0.1", bound.port()};
      {
        std::lock_guard lock(st.mutex);
        st.endpoints.emplace_back("upstream:" + u.name, bound);
      }
      st.simulators.emplace_back(worker, std::move(simulator));
    }
    if (cfg.tracing.enabled) {
      tracing::TracerOptions options;
      options.sampling_ratio = cfg.tracing.sampling_ratio;
      st.tracer = std::make_unique<tracing::Tracer>(options);
      st.exporter = std::make_unique<tracing::OtlpExporter>(
          *st.tracer, tracing::OtlpExporterOptions::from_config(cfg.tracing));
      log::info("tracing: {} of messages traced, spans sent to {} (OTLP/HTTP JSON)",
                cfg.tracing.sampling_ratio, st.exporter->url());
    }
    st.gateway = std::make_unique<gateway::Gateway>(st.config, counters_,
                                                    gateway::Gateway::kMaxHeldReceipts,
                                                    st.store.get(), st.tracer.get());
    std::vector<asio::any_io_executor> executors;
    for (std::size_t i = 0; i < st.workers->size(); ++i) {
      executors.push_back(st.workers->context(i).get_executor());
    }
    st.mnp = std::make_unique<MnpLookups>(st.workers->context(0).get_executor());
    if (const std::string what = st.mnp->configure(cfg.mnp); !what.empty()) {
      log::info("{}: lookups of {} answer within {} ms (else routed as not ported)", what,
                cfg.mnp.url, cfg.mnp.timeout.count());
    }
    st.gateway->number_lookup(st.mnp.get());
    // Before the gateway starts: deliveries stored for HTTP are read back at start.
    st.callbacks = std::make_unique<callbacks::HttpCallbacks>(
        st.workers->context(0).get_executor(), *st.gateway, counters_, *st.config);
    st.gateway->start(executors, simulator_addresses);
  } catch (const std::exception& e) {
    log::error("{}", e.what());
    return 1;
  }
  st.simulator_addresses = simulator_addresses;
  try {
    st.external_auth = std::make_unique<extauth::Authenticator>(counters_);
    st.external_auth->configure(cfg);
    if (cfg.auth.any()) log::info("auth: {}", external_auth_text(cfg.auth));
  } catch (const std::exception& e) {
    log::error("auth: {}", e.what());
    return 1;
  }
  st.clients = std::make_shared<ClientsSource>(std::make_shared<const auth::ClientDirectory>(cfg.clients));
  ListenerContext shared{*st.workers,
                         counters_,
                         st.clients,
                         std::make_shared<auth::AuthFailureThrottle>(),
                         std::make_shared<limits::ClientSessionCounter>(),
                         st.stopping_flag,
                         st.gateway.get(),
                         std::make_shared<const session::PduCounters>(counters_, "client"),
                         st.external_auth.get()};
  st.listener_context.emplace(shared);
  try {
    for (const auto& l : cfg.listeners) {
      if (l.type == config::ListenerType::http) {
        start_http_listener(l);
        continue;
      }
      if (l.type == config::ListenerType::grpc) {
        start_grpc_listener(l);
        continue;
      }
      auto listener = std::make_shared<SmppListener>(l, shared);
      const auto bound = listener->start();
      {
        std::lock_guard lock(st.mutex);
        st.endpoints.emplace_back(l.name, bound);
      }
      log_listening(l.name, bound, l.tls.enabled ? " (TLS)" : "");
      st.listeners.push_back(std::move(listener));
    }
  } catch (const std::exception& e) {
    log::error("{}", e.what());
    return 1;
  }

  if (cfg.cluster.enabled) {
    try {
      cluster::NodeInfo self;
      for (const auto& [name, bound] : endpoints()) {
        if (name.starts_with("upstream:")) continue;
        self.listeners.push_back(name + " " + net::endpoint_text(bound));
      }
      self.version = build_info::version();
      self.revision = build_info::revision();
      self.config_sha256 = config_file_sha256(cfg.source);
      // The others see this node's bound sessions by client (smppd status, /api/clients).
      st.cluster = std::make_unique<cluster::Node>(
          cfg.cluster, std::move(self), [counter = shared.client_sessions] {
            std::map<std::string, uint32_t> out;
            for (auto& [client, n] : counter->snapshot()) out.emplace(std::move(client), n);
            return out;
          });
      st.cluster->start();
    } catch (const std::exception& e) {
      log::error("cluster: {}", e.what());
      return 1;
    }
  }

  try {
    st.operations = std::make_unique<Operations>(
        OperationsParts{st.config, counters_, *st.workers, *st.gateway, st.store.get(),
                        [this] { return endpoints(); }, [this] { return reload("API"); },
                        st.exporter.get(), st.mnp.get(), st.cluster.get()});
    for (const auto& [name, bound] : st.operations->start()) {
      {
        std::lock_guard lock(st.mutex);
        st.endpoints.emplace_back(name, bound);
      }
      log_listening(name, bound,
                    name == "management" && cfg.management.tls.enabled ? " (HTTPS)" : " (HTTP)");
    }
  } catch (const std::exception& e) {
    log::error("{}", e.what());
    return 1;
  }

  if (st.options.handle_signals) {
    st.signals = std::make_unique<asio::signal_set>(st.workers->context(0), SIGTERM, SIGINT);
    st.signals->async_wait([this](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      log::info("signal {} received: shutting down", signal == SIGTERM ? "SIGTERM" : "SIGINT");
      shutdown();
    });
    st.hangups = std::make_unique<asio::signal_set>(st.workers->context(0), SIGHUP);
    wait_for_hangup();
  }
  st.log_flush = std::make_unique<asio::steady_timer>(st.workers->context(0));
  flush_logs_every_second();
  log::info("smppd running: {} listener(s), {} worker thread(s)",
            st.listeners.size() + st.http_listeners.size() + st.grpc_listeners.size(),
            st.workers->size());
  st.notify.start_watchdog(st.workers->context(0).get_executor());
  st.workers->start();
  // Every listener is bound: systemd may start what comes after smppd.
  st.notify.ready("running");

  {
    // The main thread waits for the end, and meanwhile runs the reloads SIGHUP asks for (off
    // the workers: reading a large configuration takes a while).
    std::unique_lock lock(st.mutex);
    while (!st.stop_requested) {
      st.stop_requested_cv.wait(lock, [&st] { return st.stop_requested || st.reload_requested; });
      if (st.reload_requested && !st.stop_requested) {
        st.reload_requested = false;
        lock.unlock();
        reload("SIGHUP");
        lock.lock();
      }
    }
  }
  // Sessions end within the grace period (each has its own deadline); whatever is left after
  // it is stopped.
  const bool clean = st.workers->join(st.options.shutdown_grace + std::chrono::seconds(2));
  // Leaves the cluster: the others see this node gone at once.
  if (st.cluster) st.cluster->stop(std::chrono::seconds(2));
  // The gRPC servers are done once their calls are (within the grace, the workers running);
  // a stopper still waiting after that is a call that will never end: smppd leaves without it.
  const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (st.grpc_stopped.load() < st.grpc_stoppers.size() && std::chrono::steady_clock::now() < limit) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (st.grpc_stopped.load() < st.grpc_stoppers.size()) {
    log::error("a gRPC listener did not stop in time: smppd exits without waiting for it");
    for (const auto& [key, value] : counters_.snapshot()) log::info("counter {} {}", key, value);
    spdlog::default_logger()->flush();
    std::_Exit(1);
  }
  for (auto& t : st.grpc_stoppers) t.join();
  st.grpc_listeners.clear();
  if (st.external_auth) st.external_auth->stop();
  if (st.operations) st.operations->stop();
  if (st.exporter) st.exporter->stop();  // sends what the last messages left
  for (const auto& [key, value] : counters_.snapshot()) log::info("counter {} {}", key, value);
  log::info("smppd stopped{}", clean ? "" : " (forced)");
  return 0;
}

void Server::start_http_listener(const config::ListenerConfig& l) {
  State& st = *state_;
  HttpListener h = make_http_listener(l);
  const auto bound = h.server->start(listen_endpoint(l, st.workers->context(0)));
  {
    std::lock_guard lock(st.mutex);
    st.endpoints.emplace_back(l.name, bound);
  }
  log_listening(l.name, bound, l.tls.enabled ? " (HTTPS)" : " (HTTP)");
  st.http_listeners.push_back(std::move(h));
}

void Server::start_grpc_listener(const config::ListenerConfig& l) {
  State& st = *state_;
  std::vector<asio::any_io_executor> executors;
  for (std::size_t i = 0; i < st.workers->size(); ++i) {
    executors.push_back(st.workers->context(i).get_executor());
  }
  auto api = std::make_unique<grpcapi::GrpcApi>(
      l, grpcapi::GrpcApiParts{*st.gateway, counters_,
                               [clients = st.clients] { return clients->get(); }, st.store.get(),
                               st.listener_context->auth_failures, std::move(executors),
                               st.external_auth.get()});
  const uint16_t port = api->start();
  asio::ip::tcp::endpoint bound(
      l.address.host.empty() ? asio::ip::address(asio::ip::address_v4::any())
                             : asio::ip::make_address(l.address.host),
      port);
  {
    std::lock_guard lock(st.mutex);
    st.endpoints.emplace_back(l.name, bound);
    st.grpc_listeners.emplace_back(l, std::move(api));
  }
  log_listening(l.name, bound, l.tls.enabled ? " (gRPC, TLS)" : " (gRPC)");
}

Server::HttpListener Server::make_http_listener(const config::ListenerConfig& l) {
  State& st = *state_;
  rest::HttpApiParts parts{*st.gateway, counters_,
                           [clients = st.clients] { return clients->get(); },
                           [this](std::function<void(std::string)> done) {
                             if (state_->operations) {
                               state_->operations->metrics_text(std::move(done));
                             } else {
                               done({});
                             }
                           },
                           st.store.get(), st.listener_context->auth_failures,
                           [callbacks = st.callbacks.get()](std::string_view client,
                                                            std::string url) {
                             if (callbacks != nullptr) callbacks->notify(client, std::move(url));
                           },
                           st.external_auth.get()};
  auto api = std::make_shared<rest::HttpApi>(l, std::move(parts));
  http::ServerSettings s;
  s.name = "listener " + l.name;
  s.read_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(l.http.read_timeout);
  s.write_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(l.http.write_timeout);
  s.idle_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(l.http.idle_timeout);
  s.max_header_bytes = l.http.max_header_bytes;
  s.max_body_bytes = l.http.max_body_bytes;
  s.max_connections = l.max_connections;
  if (l.tls.enabled) {
    auto result = net::make_server_tls_context(l.tls);
    if (!result.context) throw std::runtime_error("listener " + l.name + ": " + result.error);
    s.tls = std::move(result.context);
  }
  for (std::size_t i = 0; i < st.workers->size(); ++i) {
    s.executors.push_back(st.workers->context(i).get_executor());
  }
  auto server = std::make_shared<http::Server>(
      st.workers->context(0).get_executor(), std::move(s),
      [api](http::Request& r, http::Reply reply) { (*api)(r, std::move(reply)); });
  return HttpListener{l, std::move(api), std::move(server)};
}

void Server::wait_for_hangup() {
  state_->hangups->async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;
    log::info("SIGHUP received: reloading the configuration");
    {
      std::lock_guard lock(state_->mutex);
      state_->reload_requested = true;
    }
    state_->stop_requested_cv.notify_all();
    wait_for_hangup();
  });
}

void Server::flush_logs_every_second() {
  state_->log_flush->expires_after(std::chrono::seconds(1));
  state_->log_flush->async_wait([this](const boost::system::error_code& ec) {
    log::Aggregated::flush_all();
    if (!ec && !state_->stopping_flag->load()) flush_logs_every_second();
  });
}

void Server::shutdown() {
  State& st = *state_;
  std::call_once(st.stopping, [&] {
    st.stopping_flag->store(true);
    {
      std::lock_guard lock(st.mutex);
      for (auto& l : st.listeners) l->stop_accepting();
      // Requests being answered finish; idle connections close.
      for (auto& h : st.http_listeners) h.server->drain();
      // gRPC: no new calls; those in flight end as the gateway answers them (within the grace).
      for (auto& [config, api] : st.grpc_listeners) {
        std::vector<asio::executor_work_guard<asio::io_context::executor_type>> running;
        for (std::size_t i = 0; i < st.workers->size(); ++i) {
          running.push_back(asio::make_work_guard(st.workers->context(i)));
        }
        st.grpc_stoppers.emplace_back([&st, api = api.get(), grace = st.options.shutdown_grace,
                                       running = std::move(running)]() mutable {
          api->stop(grace);
          running.clear();
          st.grpc_stopped.fetch_add(1);
        });
      }
    }
    if (st.signals) {
      asio::post(st.workers->context(0), [&st] {
        boost::system::error_code ignored;
        st.signals->cancel(ignored);
        st.hangups->cancel(ignored);
      });
    }
    st.notify.stopping();
    asio::post(st.workers->context(0), [&st] {
      if (st.log_flush) st.log_flush->cancel();
      st.notify.stop_watchdog();
    });
    const auto grace = st.options.shutdown_grace;
    if (st.gateway) st.gateway->stop(grace);
    // Messages waiting for their MNP answer get it now (the fallback) and are answered.
    if (st.mnp) st.mnp->stop();
    if (st.callbacks) st.callbacks->stop();
    for (auto& [worker, simulator] : st.simulators) {
      asio::post(st.workers->context(worker), [sim = simulator.get(), grace] { sim->stop(grace); });
    }
    for (std::size_t i = 0; i < st.workers->size(); ++i) {
      asio::post(st.workers->context(i), [&st, i, grace] {
        auto& list = st.workers->sessions(i);
        if (list.size() > 0) log::info("unbinding {} session(s) on worker {}", list.size(), i);
        list.for_each([grace](session::Session& s) { s.shutdown(grace); });
      });
    }
    st.workers->release();
    std::lock_guard lock(st.mutex);
    st.stop_requested = true;
    st.stop_requested_cv.notify_all();
  });
}

log::Level log_level(config::LogLevel level) {
  switch (level) {
    case config::LogLevel::debug:
      return log::Level::debug;
    case config::LogLevel::info:
      return log::Level::info;
    case config::LogLevel::warn:
      return log::Level::warn;
    case config::LogLevel::error:
      return log::Level::error;
  }
  return log::Level::info;
}

namespace {

// The sections that change only with a restart: in `next`, put back as they are in `current`,
// each one that differed named in `restart_needed`.
void keep_restart_only_sections(const config::Config& current, config::Config& next,
                                std::vector<std::string>& restart_needed) {
  auto keep = [&](auto member, std::string_view what) {
    if (current.*member == next.*member) return;
    restart_needed.emplace_back(what);
    next.*member = current.*member;
  };
  keep(&config::Config::storage, "storage");
  keep(&config::Config::metrics, "metrics");
  keep(&config::Config::management, "management");
  keep(&config::Config::tracing, "tracing");
  keep(&config::Config::cluster, "cluster");
  keep(&config::Config::multipart, "multipart");
  // The log's level changes live; the rest of the section does not.
  config::LoggingConfig logging = next.logging;
  logging.level = current.logging.level;
  if (!(logging == current.logging)) {
    restart_needed.emplace_back("logging (format, output, file)");
    const auto level = next.logging.level;
    next.logging = current.logging;
    next.logging.level = level;
  }
}

}  // namespace

ReloadResult Server::reload(std::string_view why) {
  State& st = *state_;
  std::lock_guard reloading(st.reload_mutex);
  ReloadResult result;
  std::shared_ptr<const config::Config> current;
  {
    std::lock_guard lock(st.mutex);
    current = st.config;
  }
  if (st.stopping_flag->load() || !st.gateway || !st.listener_context) {
    result.errors.push_back("smppd is not running (or is stopping)");
    return result;
  }
  // systemd shows "reloading" until READY again, whatever the outcome.
  st.notify.reloading(why);
  struct Ready {
    State& st;
    const ReloadResult& result;
    ~Ready() {
      st.notify.ready(result.ok ? "running; configuration reloaded"
                                : "running; the last reload failed, the previous configuration runs");
    }
  } ready{st, result};
  const auto loaded = config::load_config_file(current->source, config::process_env, {},
                                               gateway::check_route_script);
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) result.errors.push_back(e.to_string());
    log::error("reload ({}): {} is not valid, the running configuration stays ({} error(s))",
               why, current->source, result.errors.size());
    for (const auto& e : result.errors) log::error("reload: {}", e);
    return result;
  }
  for (const auto& w : loaded.warnings) {
    log::warn("{}:{}:{}: {}", w.file, w.line, w.column, w.message);
  }
  auto next = std::make_shared<config::Config>(*loaded.config);
  keep_restart_only_sections(*current, *next, result.restart_needed);
  if (current->logging.level != next->logging.level) {
    log::set_level(log_level(next->logging.level));
    result.applied.push_back("logging.level");
  }
  // Clients: for the next bind (limits: the next message); a removed client's sessions are
  // unbound.
  std::vector<std::string> removed_clients;
  for (const auto& c : current->clients) {
    const config::ClientConfig* now = next->find_client(c.system_id);
    if (now == nullptr) {
      removed_clients.push_back(c.system_id);
      result.applied.push_back("client " + c.system_id + " removed");
    } else if (!(*now == c)) {
      // Its rate and window apply to its next message; the rest to its next bind.
      config::ClientConfig others = *now;
      others.rate_limit = c.rate_limit;
      result.applied.push_back("client " + c.system_id + " changed" +
                               (others == c ? "" : " (applies to its next bind)"));
    }
  }
  for (const auto& c : next->clients) {
    if (current->find_client(c.system_id) == nullptr) {
      result.applied.push_back("client " + c.system_id + " added");
    }
  }
  try {
    // Before the routes that may need it.
    if (std::string what = st.mnp ? st.mnp->configure(next->mnp) : ""; !what.empty())
      result.applied.push_back(std::move(what));
  } catch (const std::exception& e) {
    result.errors.push_back(e.what());
    log::error("reload ({}): {}; the running configuration stays", why, e.what());
    return result;
  }
  try {
    const gateway::Gateway::Changes changes =
        st.gateway->reconfigure(next, st.simulator_addresses, st.options.shutdown_grace);
    result.applied.insert(result.applied.end(), changes.applied.begin(), changes.applied.end());
    result.restart_needed.insert(result.restart_needed.end(), changes.restart_needed.begin(),
                                 changes.restart_needed.end());
  } catch (const std::exception& e) {
    result.errors.push_back(e.what());
    log::error("reload ({}): {}; the running configuration stays", why, e.what());
    return result;
  }
  // What the gateway kept as it was is part of the configuration in effect.
  auto effective = std::make_shared<config::Config>(*next);
  effective->upstreams = st.gateway->config()->upstreams;
  try {
    // After the gateway: with the upstreams in effect (a forced upstream must be one of them).
    const bool auth_changed = !(current->auth == effective->auth);
    st.external_auth->configure(*effective);
    if (auth_changed) {
      result.applied.push_back(effective->auth.any() ? "auth: " + external_auth_text(effective->auth)
                                                     : std::string("auth: external backends off"));
    }
  } catch (const std::exception& e) {
    // The backends in effect stay (and so does their section); the rest is applied.
    effective->auth = current->auth;
    result.errors.push_back(std::string("auth: ") + e.what());
    log::error("reload ({}): auth: {}; the external backends in effect stay", why, e.what());
  }
  st.clients->set(std::make_shared<const auth::ClientDirectory>(effective->clients));
  if (!removed_clients.empty()) {
    for (std::size_t i = 0; i < st.workers->size(); ++i) {
      asio::post(st.workers->context(i), [&workers = *st.workers, i, removed_clients,
                                          grace = st.options.shutdown_grace] {
        workers.sessions(i).for_each([&](session::Session& s) {
          if (std::find(removed_clients.begin(), removed_clients.end(), s.system_id()) !=
              removed_clients.end()) {
            s.shutdown(grace, "client removed from the configuration");
          }
        });
      });
    }
  }
  reload_listeners(*effective, result);
  {
    std::lock_guard lock(st.mutex);
    st.config = effective;
  }
  if (st.operations) st.operations->reconfigure(effective);
  if (st.cluster) st.cluster->set_config_sha256(config_file_sha256(effective->source));
  if (st.callbacks) st.callbacks->reconfigure(*effective);
  result.ok = true;
  if (result.applied.empty()) result.applied.push_back("nothing changed");
  std::string applied;
  for (const auto& a : result.applied) applied += (applied.empty() ? "" : "; ") + a;
  log::info("reload ({}): {} applied: {}", why, current->source, applied);
  for (const auto& r : result.restart_needed) {
    log::warn("reload ({}): {} changed but needs a restart: the running one stays", why, r);
  }
  return result;
}

void Server::reload_listeners(const config::Config& next, ReloadResult& result) {
  State& st = *state_;
  std::vector<std::shared_ptr<SmppListener>> kept;
  std::vector<std::shared_ptr<SmppListener>> gone;
  auto set_endpoint = [&](const std::string& name, const asio::ip::tcp::endpoint& e) {
    std::lock_guard lock(st.mutex);
    std::erase_if(st.endpoints, [&](const auto& p) { return p.first == name; });
    if (e.port() != 0) st.endpoints.emplace_back(name, e);
  };
  for (const auto& old : st.listeners) {
    const config::ListenerConfig* now = nullptr;
    for (const auto& l : next.listeners) {
      if (l.name == old->name() && l.type == config::ListenerType::smpp) now = &l;
    }
    if (now == nullptr) {
      gone.push_back(old);
      continue;
    }
    if (*now == old->config()) {
      kept.push_back(old);
      continue;
    }
    try {
      auto replacement = std::make_shared<SmppListener>(*now, *st.listener_context);
      asio::ip::tcp::endpoint bound;
      if (now->address == old->config().address) {
        bound = old->hand_over(*replacement);
        result.applied.push_back("listener " + now->name + " changed (new sessions)");
      } else {
        bound = replacement->start();
        // The old address accepts nothing more once the reload answers.
        old->stop_accepting().wait_for(std::chrono::seconds(2));
        result.applied.push_back("listener " + now->name + " moved to " + now->address.to_string());
        log_listening(now->name, bound, now->tls.enabled ? " (TLS)" : "");
      }
      set_endpoint(now->name, bound);
      kept.push_back(std::move(replacement));
    } catch (const std::exception& e) {
      // Its TLS files or its new address do not work: it goes on as it was.
      result.restart_needed.push_back("listener " + now->name + ": " + e.what() +
                                      " (kept as it was)");
      kept.push_back(old);
    }
  }
  // HTTP listeners: a changed one is replaced by a server of the new settings that takes over
  // the listening socket (same address) or listens on the new one; the old one finishes the
  // requests it is answering. Added ones start, removed ones drain.
  std::vector<HttpListener> http_kept;
  for (auto& old : st.http_listeners) {
    const config::ListenerConfig* now = nullptr;
    for (const auto& l : next.listeners) {
      if (l.name == old.config.name && l.type == config::ListenerType::http) now = &l;
    }
    if (now == nullptr) {
      old.server->drain();
      set_endpoint(old.config.name, {});
      result.applied.push_back("listener " + old.config.name + " (http) removed");
      continue;
    }
    if (*now == old.config) {
      http_kept.push_back(std::move(old));
      continue;
    }
    try {
      HttpListener replacement = make_http_listener(*now);
      asio::ip::tcp::endpoint bound;
      // The same address, or the one it was bound to (port 0 then resolved).
      asio::ip::tcp::endpoint was;
      {
        std::lock_guard lock(st.mutex);
        for (const auto& [name, e] : st.endpoints) {
          if (name == old.config.name) was = e;
        }
      }
      const bool same = now->address == old.config.address ||
                        listen_endpoint(*now, st.workers->context(0)) == was;
      if (same) {
        bound = replacement.server->take_over(*old.server);
        result.applied.push_back("listener " + now->name + " (http) changed (new requests)");
      } else {
        bound = replacement.server->start(listen_endpoint(*now, st.workers->context(0)));
        old.server->drain();
        result.applied.push_back("listener " + now->name + " (http) moved to " +
                                 now->address.to_string());
        log_listening(now->name, bound, now->tls.enabled ? " (HTTPS)" : " (HTTP)");
      }
      set_endpoint(now->name, bound);
      http_kept.push_back(std::move(replacement));
    } catch (const std::exception& e) {
      result.restart_needed.push_back(std::string(e.what()) + " (kept as it was)");
      http_kept.push_back(std::move(old));
    }
  }
  for (const auto& l : next.listeners) {
    if (l.type != config::ListenerType::http) continue;
    const bool exists = std::any_of(http_kept.begin(), http_kept.end(),
                                    [&](const auto& h) { return h.config.name == l.name; });
    const bool was = std::any_of(st.http_listeners.begin(), st.http_listeners.end(),
                                 [&](const auto& h) { return h.config.name == l.name; });
    if (exists || was) continue;
    try {
      HttpListener added = make_http_listener(l);
      const auto bound = added.server->start(listen_endpoint(l, st.workers->context(0)));
      set_endpoint(l.name, bound);
      log_listening(l.name, bound, l.tls.enabled ? " (HTTPS)" : " (HTTP)");
      result.applied.push_back("listener " + l.name + " (http) added");
      http_kept.push_back(std::move(added));
    } catch (const std::exception& e) {
      result.restart_needed.push_back(std::string(e.what()) + " (not started)");
    }
  }
  {
    std::lock_guard lock(st.mutex);
    st.http_listeners = std::move(http_kept);
  }
  // gRPC listeners change only with a restart.
  for (const auto& l : next.listeners) {
    if (l.type != config::ListenerType::grpc) continue;
    const auto running = std::find_if(st.grpc_listeners.begin(), st.grpc_listeners.end(),
                                      [&](const auto& g) { return g.first.name == l.name; });
    if (running == st.grpc_listeners.end() || !(running->first == l)) {
      result.restart_needed.push_back("listener " + l.name + " (grpc)");
    }
  }
  for (const auto& g : st.grpc_listeners) {
    const bool still = std::any_of(next.listeners.begin(), next.listeners.end(), [&](const auto& l) {
      return l.name == g.first.name && l.type == config::ListenerType::grpc;
    });
    if (!still) result.restart_needed.push_back("listener " + g.first.name + " (grpc) removed");
  }
  for (const auto& l : next.listeners) {
    if (l.type != config::ListenerType::smpp) continue;
    const bool exists = std::any_of(st.listeners.begin(), st.listeners.end(),
                                    [&](const auto& o) { return o->name() == l.name; });
    if (exists) continue;
    try {
      auto listener = std::make_shared<SmppListener>(l, *st.listener_context);
      const auto bound = listener->start();
      set_endpoint(l.name, bound);
      log_listening(l.name, bound, l.tls.enabled ? " (TLS)" : "");
      result.applied.push_back("listener " + l.name + " added");
      kept.push_back(std::move(listener));
    } catch (const std::exception& e) {
      result.restart_needed.push_back("listener " + l.name + ": " + e.what() + " (not started)");
    }
  }
  // Removed listeners stop accepting; their sessions are unbound.
  for (const auto& old : gone) {
    // Its port accepts nothing more once the reload answers (the reload runs on the main or
    // the management thread, never on a worker).
    old->stop_accepting().wait_for(std::chrono::seconds(2));
    set_endpoint(old->name(), {});
    result.applied.push_back("listener " + old->name() + " removed");
    const session::SessionSettings* settings = old->session_settings().get();
    for (std::size_t i = 0; i < st.workers->size(); ++i) {
      asio::post(st.workers->context(i), [&workers = *st.workers, i, settings, keep = old,
                                          grace = st.options.shutdown_grace] {
        workers.sessions(i).for_each([&](session::Session& s) {
          if (&s.settings() == settings) s.shutdown(grace, "listener removed from the configuration");
        });
      });
    }
  }
  {
    std::lock_guard lock(st.mutex);
    st.listeners = std::move(kept);
  }
  // A shutdown that began meanwhile has not seen the new ones.
  if (st.stopping_flag->load()) {
    std::lock_guard lock(st.mutex);
    for (auto& l : st.listeners) l->stop_accepting();
  }
}

}  // namespace smppd::server
