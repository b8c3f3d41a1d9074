#include "server/server.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "auth/clients.hpp"
#include "auth/throttle.hpp"
#include "core/log.hpp"
#include "core/log_aggregate.hpp"
#include "gateway/gateway.hpp"
#include "server/operations.hpp"
#include "server/smpp_listener.hpp"
#include "server/workers.hpp"
#include "sim/simulator.hpp"
#include "store/sqlite_store.hpp"

namespace smppd::server {

struct Server::State {
  std::shared_ptr<const config::Config> config;
  ServerOptions options;
  std::unique_ptr<WorkerPool> workers;
  std::vector<std::shared_ptr<SmppListener>> listeners;
  // Built-in SMSC simulators (upstreams of type simulator), each on one worker.
  std::vector<std::pair<std::size_t, std::unique_ptr<sim::Simulator>>> simulators;
  // With storage: outlives the gateway that writes to it.
  std::unique_ptr<store::SqliteStore> store;
  std::unique_ptr<gateway::Gateway> gateway;
  // The metrics endpoint and the management API (on a thread of their own).
  std::unique_ptr<Operations> operations;
  std::unique_ptr<asio::signal_set> signals;
  // SIGHUP: logged and ignored until reload exists (a logrotate postrotate or `systemctl
  // reload` must never stop the daemon).
  std::unique_ptr<asio::signal_set> hangups;
  // Says the counts of aggregated log lines (log_aggregate.hpp) every second.
  std::unique_ptr<asio::steady_timer> log_flush;
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
    st.gateway = std::make_unique<gateway::Gateway>(
        st.config, counters_, gateway::Gateway::kMaxHeldReceipts, st.store.get());
    std::vector<asio::any_io_executor> executors;
    for (std::size_t i = 0; i < st.workers->size(); ++i) {
      executors.push_back(st.workers->context(i).get_executor());
    }
    st.gateway->start(executors, simulator_addresses);
  } catch (const std::exception& e) {
    log::error("{}", e.what());
    return 1;
  }
  ListenerContext shared{*st.workers,
                         counters_,
                         std::make_shared<const auth::ClientDirectory>(cfg.clients),
                         std::make_shared<auth::AuthFailureThrottle>(),
                         std::make_shared<limits::ClientSessionCounter>(),
                         st.stopping_flag,
                         st.gateway.get()};
  try {
    for (const auto& l : cfg.listeners) {
      if (l.type != config::ListenerType::smpp) {
        log::warn("listener {}: type {} is not built yet; it is not started", l.name,
                  config::to_string(l.type));
        continue;
      }
      auto listener = std::make_shared<SmppListener>(l, shared);
      const auto bound = listener->start();
      {
        std::lock_guard lock(st.mutex);
        st.endpoints.emplace_back(l.name, bound);
      }
      const auto address = bound.address();
      log::info("listener {} listening on {}:{}{}", l.name,
                address.is_v6() ? "[" + address.to_string() + "]" : address.to_string(),
                bound.port(), l.tls.enabled ? " (TLS)" : "");
      st.listeners.push_back(std::move(listener));
    }
  } catch (const std::exception& e) {
    log::error("{}", e.what());
    return 1;
  }

  try {
    st.operations = std::make_unique<Operations>(OperationsParts{
        st.config, counters_, *st.workers, *st.gateway, st.store.get(), [this] { return endpoints(); }});
    for (const auto& [name, bound] : st.operations->start()) {
      {
        std::lock_guard lock(st.mutex);
        st.endpoints.emplace_back(name, bound);
      }
      const auto address = bound.address();
      log::info("listener {} listening on {}:{} (HTTP{})", name,
                address.is_v6() ? "[" + address.to_string() + "]" : address.to_string(),
                bound.port(),
                name == "management" && cfg.management.tls.enabled ? "S" : "");
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
  log::info("smppd running: {} listener(s), {} worker thread(s)", st.listeners.size(),
            st.workers->size());
  st.workers->start();

  {
    std::unique_lock lock(st.mutex);
    st.stop_requested_cv.wait(lock, [&st] { return st.stop_requested; });
  }
  // Sessions end within the grace period (each has its own deadline); whatever is left after
  // it is stopped.
  const bool clean = st.workers->join(st.options.shutdown_grace + std::chrono::seconds(2));
  if (st.operations) st.operations->stop();
  for (const auto& [key, value] : counters_.snapshot()) log::info("counter {} {}", key, value);
  log::info("smppd stopped{}", clean ? "" : " (forced)");
  return 0;
}

void Server::wait_for_hangup() {
  state_->hangups->async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;
    log::warn(
        "SIGHUP received: ignored (configuration reload is not built yet; smppd goes on "
        "with the configuration it started with)");
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
    for (auto& l : st.listeners) l->stop_accepting();
    if (st.signals) {
      asio::post(st.workers->context(0), [&st] {
        boost::system::error_code ignored;
        st.signals->cancel(ignored);
        st.hangups->cancel(ignored);
      });
    }
    asio::post(st.workers->context(0), [&st] {
      if (st.log_flush) st.log_flush->cancel();
    });
    const auto grace = st.options.shutdown_grace;
    if (st.gateway) st.gateway->stop(grace);
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

}  // namespace smppd::server
