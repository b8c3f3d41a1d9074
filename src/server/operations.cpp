#include "server/operations.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <sstream>
#include <thread>

#include "api/http/request_parts.hpp"
#include "api/http/server.hpp"
#include "api/metrics/render.hpp"
#include "cluster/node.hpp"
#include "core/build_info.hpp"
#include "api/rest/message_view.hpp"
#include "core/log.hpp"
#include "gateway/gateway.hpp"
#include "gateway/message_ids.hpp"
#include "gateway/store_forward.hpp"
#include "net/endpoint.hpp"
#include "net/tls.hpp"
#include "server/mnp_lookups.hpp"
#include "server/workers.hpp"
#include "smpp/status.hpp"
#include "store/message_state.hpp"
#include "store/store.hpp"
#include "tracing/otlp_exporter.hpp"
#include "upstream/pool.hpp"

namespace smppd::server {

namespace asio = boost::asio;
namespace json = boost::json;
using tcp = asio::ip::tcp;

namespace {

// How long an API call waits for a worker to list its sessions.
constexpr auto kWorkerWait = std::chrono::seconds(2);
// Sessions a disconnect unbinds are given this long to finish their in-flight messages.
constexpr auto kDisconnectGrace = std::chrono::seconds(5);

std::array<unsigned char, 32> sha256(std::string_view data) {
  std::array<unsigned char, 32> out{};
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &n, EVP_sha256(), nullptr);
  return out;
}

std::string hex(std::span<const unsigned char> bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

std::string file_sha256(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return {};
  std::ostringstream text;
  text << f.rdbuf();
  return hex(sha256(text.str()));
}
}  // namespace

std::string config_file_sha256(const std::string& path) { return file_sha256(path); }

namespace {


std::string_view bind_name(session::BindState s) {
  switch (s) {
    case session::BindState::bound_tx:
      return "transmitter";
    case session::BindState::bound_rx:
      return "receiver";
    case session::BindState::bound_trx:
      return "transceiver";
    default:
      return session::state_name(s);
  }
}

double unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

http::Response json_answer(const json::value& v, unsigned status = 200) {
  return http::json_response(status, v);
}

}  // namespace

bool same_secret(std::string_view a, std::string_view b) {
  const auto da = sha256(a);
  const auto db = sha256(b);
  return CRYPTO_memcmp(da.data(), db.data(), da.size()) == 0;
}

struct SessionInfo {
  uint64_t id = 0;
  std::string system_id;
  std::string remote;
  session::BindState state = session::BindState::open;
  smpp::Version version = smpp::Version::v34;
  uint32_t in_flight_from_peer = 0;
  uint32_t in_flight_to_peer = 0;
  uint32_t window = 0;
  uint64_t requests_received = 0;
  uint64_t responses_received = 0;
  std::size_t pending_output = 0;
};

struct Operations::Impl {
  explicit Impl(OperationsParts p) : parts(std::move(p)) {}

  OperationsParts parts;
  // The configuration in effect (reconfigure() replaces it) and, during a request, the one
  // that request reads (requests are handled one at a time, on this object's thread).
  mutable std::mutex config_mutex;
  std::shared_ptr<const config::Config> pinned;
  void pin() {
    std::lock_guard lock(config_mutex);
    pinned = parts.config;
  }
  const std::chrono::system_clock::time_point started = std::chrono::system_clock::now();
  const std::chrono::steady_clock::time_point started_steady = std::chrono::steady_clock::now();
  std::string config_path;  // absolute
  std::string config_hash;
  asio::io_context context{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
  std::thread thread;
  std::shared_ptr<http::Server> metrics;
  std::shared_ptr<http::Server> management;

  const config::Config& cfg() const { return *pinned; }

  // ---- shared ----
  // Each worker's sessions, asked of the worker itself; a worker that does not answer within
  // kWorkerWait is left out (`complete` false).
  std::vector<SessionInfo> sessions(bool& complete);
  std::size_t disconnect(const std::string& system_id);
  std::vector<metrics::Family> computed_families();

  // ---- handlers ----
  http::Response scrape(const http::Request& r);
  http::Response manage(const http::Request& r);
  bool authorized(const http::Request& r) const;
  http::Response status();
  // Per client, from one pass over the registry: messages by status, MO and receipts.
  struct ClientCounts {
    json::object by_status;
    uint64_t mo = 0;
    uint64_t receipts = 0;
  };
  std::map<std::string, ClientCounts, std::less<>> client_counts();
  json::object client_json(const config::ClientConfig& c,
                           const std::vector<const SessionInfo*>& sessions,
                           ClientCounts counts);
  http::Response clients(std::optional<std::string> one);
  json::object upstream_json(upstream::Pool& pool);
  http::Response upstreams(std::optional<std::string> one);
  http::Response suspend(const std::string& name, bool suspend);
  http::Response routes();
  http::Response message(const std::string& id);
};

Operations::Operations(OperationsParts parts) : impl_(std::make_unique<Impl>(std::move(parts))) {}

Operations::~Operations() {
  stop();
}

std::vector<std::pair<std::string, tcp::endpoint>> Operations::start() {
  Impl& im = *impl_;
  im.pin();
  const config::Config& cfg = im.cfg();
  std::vector<std::pair<std::string, tcp::endpoint>> bound;
  std::error_code ec;
  im.config_path = std::filesystem::absolute(cfg.source, ec).string();
  if (ec) im.config_path = cfg.source;
  im.config_hash = file_sha256(cfg.source);
  if (cfg.metrics.enabled && cfg.metrics.prometheus_enabled) {
    http::ServerSettings s;
    s.name = "metrics";
    s.max_body_bytes = 0;
    s.max_connections = 64;
    im.metrics = std::make_shared<http::Server>(
        im.context.get_executor(), s, [&im](const http::Request& r) { return im.scrape(r); });
    config::HostPort at = cfg.metrics.prometheus_address;
    if (at.host.empty()) at = config::HostPort{"0.0.0.0", cfg.metrics.prometheus_port};
    const auto address = asio::ip::make_address(at.host);
    bound.emplace_back("metrics", im.metrics->start(tcp::endpoint(address, at.port)));
  }
  if (cfg.management.enabled) {
    http::ServerSettings s;
    s.name = "management";
    s.max_body_bytes = 64 * 1024;
    s.max_connections = 64;
    if (cfg.management.tls.enabled) {
      auto result = net::make_server_tls_context(cfg.management.tls);
      if (!result.context) throw std::runtime_error("management: " + result.error);
      s.tls = std::move(result.context);
    }
    im.management = std::make_shared<http::Server>(
        im.context.get_executor(), s, [&im](const http::Request& r) { return im.manage(r); });
    const auto& at = cfg.management.address;
    const auto address = asio::ip::make_address(at.host.empty() ? "0.0.0.0" : at.host);
    bound.emplace_back("management", im.management->start(tcp::endpoint(address, at.port)));
    if (cfg.management.auth_type == config::ManagementAuthType::none &&
        !address.is_loopback()) {
      log::warn("management API on {} without auth: anyone who reaches it can steer smppd",
                net::endpoint_text(bound.back().second));
    }
  }
  if (!bound.empty()) {
    im.guard.emplace(im.context.get_executor());
    im.thread = std::thread([&im] { im.context.run(); });
  }
  return bound;
}

void Operations::reconfigure(std::shared_ptr<const config::Config> next) {
  Impl& im = *impl_;
  // The API's own section as it started (changing it needs a restart).
  auto effective = std::make_shared<config::Config>(*next);
  std::string hash = file_sha256(next->source);
  std::lock_guard lock(im.config_mutex);
  effective->management = im.parts.config->management;
  effective->metrics = im.parts.config->metrics;
  im.parts.config = std::move(effective);
  im.config_hash = std::move(hash);
}

void Operations::stop() {
  Impl& im = *impl_;
  if (im.metrics) im.metrics->stop();
  if (im.management) im.management->stop();
  im.guard.reset();
  if (im.thread.joinable()) {
    // Servers close their connections on stop; what is left ends with the context.
    asio::post(im.context, [&im] { im.context.stop(); });
    im.thread.join();
  }
}

// ---- sessions, asked of their workers ----

std::vector<SessionInfo> Operations::Impl::sessions(bool& complete) {
  complete = true;
  std::vector<std::future<std::vector<SessionInfo>>> parts_of;
  for (std::size_t i = 0; i < parts.workers.size(); ++i) {
    auto promise = std::make_shared<std::promise<std::vector<SessionInfo>>>();
    parts_of.push_back(promise->get_future());
    asio::post(parts.workers.context(i), [promise, &workers = parts.workers, i] {
      std::vector<SessionInfo> out;
      workers.sessions(i).for_each([&](session::Session& s) {
        SessionInfo info;
        info.id = s.id();
        info.system_id = s.system_id();
        info.remote = net::endpoint_text(s.remote());
        info.state = s.state();
        info.version = s.version();
        info.in_flight_from_peer = s.requests_in_flight_from_peer();
        info.in_flight_to_peer = s.requests_in_flight_to_peer();
        info.window = s.settings().window_size;
        info.requests_received = s.stats().requests_received;
        info.responses_received = s.stats().responses_received;
        info.pending_output = s.pending_output();
        out.push_back(std::move(info));
      });
      promise->set_value(std::move(out));
    });
  }
  std::vector<SessionInfo> all;
  const auto deadline = std::chrono::steady_clock::now() + kWorkerWait;
  for (auto& f : parts_of) {
    if (f.wait_until(deadline) != std::future_status::ready) {
      complete = false;
      continue;
    }
    for (auto& s : f.get()) all.push_back(std::move(s));
  }
  return all;
}

std::size_t Operations::Impl::disconnect(const std::string& system_id) {
  std::vector<std::future<std::size_t>> counts;
  for (std::size_t i = 0; i < parts.workers.size(); ++i) {
    auto promise = std::make_shared<std::promise<std::size_t>>();
    counts.push_back(promise->get_future());
    asio::post(parts.workers.context(i), [promise, &workers = parts.workers, i, system_id] {
      std::size_t n = 0;
      workers.sessions(i).for_each([&](session::Session& s) {
        if (s.system_id() != system_id) return;
        const auto st = s.state();
        if (st != session::BindState::bound_tx && st != session::BindState::bound_rx &&
            st != session::BindState::bound_trx) {
          return;
        }
        s.shutdown(kDisconnectGrace, "disconnected by the operator");
        ++n;
      });
      promise->set_value(n);
    });
  }
  std::size_t total = 0;
  const auto deadline = std::chrono::steady_clock::now() + kWorkerWait;
  for (auto& f : counts) {
    if (f.wait_until(deadline) == std::future_status::ready) total += f.get();
  }
  return total;
}

// ---- metrics ----

std::vector<metrics::Family> Operations::Impl::computed_families() {
  using metrics::Family;
  using metrics::Point;
  using metrics::Type;
  std::vector<Family> out;
  auto single = [&](std::string name, Type type, double value) {
    out.push_back(Family{std::move(name), type, {Point{{}, value}}});
  };
  out.push_back(Family{"smppd_build_info",
                      Type::gauge,
                      {Point{{{"version", std::string(build_info::version())},
                              {"revision", std::string(build_info::revision())}},
                             1}}});
  single("smppd_start_time_seconds", Type::gauge, unix_seconds(started));
  if (parts.cluster != nullptr) {
    const auto v = parts.cluster->view();
    std::string mine;
    {
      std::lock_guard lock(config_mutex);
      mine = config_hash;
    }
    double alive = 0;
    double gone = 0;
    double other_config = 0;
    for (const auto& n : v.nodes) {
      (n.alive ? alive : gone) += 1;
      if (n.alive && !n.self && n.config_sha256 != mine) other_config += 1;
    }
    single("smppd_cluster_redis_up", Type::gauge, v.redis_up ? 1 : 0);
    out.push_back(Family{"smppd_cluster_nodes",
                         Type::gauge,
                         {Point{{{"state", "alive"}}, alive}, Point{{{"state", "gone"}}, gone}}});
    single("smppd_cluster_nodes_missing", Type::gauge, static_cast<double>(v.missing.size()));
    single("smppd_cluster_nodes_other_config", Type::gauge, other_config);
    out.push_back(Family{"smppd_cluster_heartbeats_total",
                         Type::counter,
                         {Point{{{"outcome", "ok"}}, static_cast<double>(v.heartbeats_ok)},
                          Point{{{"outcome", "failed"}}, static_cast<double>(v.heartbeats_failed)}}});
    single("smppd_cluster_redis_commands_total", Type::counter, static_cast<double>(v.redis_commands));
  }
  single("smppd_uptime_seconds", Type::gauge,
         std::chrono::duration<double>(std::chrono::steady_clock::now() - started_steady).count());
  {
    std::ifstream statm("/proc/self/statm");
    uint64_t size = 0;
    uint64_t resident = 0;
    if (statm >> size >> resident) {
      single("smppd_process_resident_memory_bytes", Type::gauge,
             static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)));
    }
    std::error_code ec;
    std::size_t fds = 0;
    for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
      ++fds;
    }
    if (!ec) single("smppd_open_fds", Type::gauge, static_cast<double>(fds));
    rusage usage{};
    if (getrusage(RUSAGE_SELF, &usage) == 0) {
      auto secs = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
      };
      single("smppd_process_cpu_seconds_total", Type::counter,
             secs(usage.ru_utime) + secs(usage.ru_stime));
    }
  }
  Family health{"smppd_upstream_health", Type::gauge, {}};
  Family suspended{"smppd_upstream_suspended", Type::gauge, {}};
  Family connections{"smppd_upstream_connections", Type::gauge, {}};
  Family queue{"smppd_upstream_queue_depth", Type::gauge, {}};
  Family window{"smppd_upstream_window_used", Type::gauge, {}};
  for (upstream::Pool* pool : parts.gateway.pools()) {
    const upstream::Pool::View v = pool->view();
    const std::string& name = pool->name();
    health.points.push_back(Point{{{"upstream", name}}, v.healthy ? 1.0 : 0.0});
    suspended.points.push_back(Point{{{"upstream", name}}, v.suspended ? 1.0 : 0.0});
    std::size_t up = 0;
    std::size_t paused = 0;
    std::size_t down = 0;
    double in_flight = 0;
    for (const auto& c : v.connections) {
      if (!c.up) {
        ++down;
      } else if (c.paused) {
        ++paused;
      } else {
        ++up;
      }
      in_flight += c.in_flight;
    }
    connections.points.push_back(Point{{{"upstream", name}, {"state", "bound"}}, double(up)});
    connections.points.push_back(Point{{{"upstream", name}, {"state", "throttled"}}, double(paused)});
    connections.points.push_back(Point{{{"upstream", name}, {"state", "connecting"}}, double(down)});
    queue.points.push_back(Point{{{"upstream", name}}, static_cast<double>(v.queued)});
    window.points.push_back(Point{{{"upstream", name}}, in_flight});
  }
  for (auto* f : {&health, &suspended, &connections, &queue, &window}) out.push_back(std::move(*f));
  single("smppd_receipts_held", Type::gauge, static_cast<double>(parts.gateway.held_receipts()));
  Family waiting{"smppd_client_queue_depth", Type::gauge, {}};
  for (const auto& c : cfg().clients) {
    waiting.points.push_back(
        Point{{{"client", c.system_id}}, static_cast<double>(parts.gateway.clients().waiting(c.system_id))});
  }
  out.push_back(std::move(waiting));
  Family hits{"smppd_rate_limit_hits_total", Type::counter, {}};
  for (const auto& c : parts.gateway.client_limits().seen()) {
    hits.points.push_back(Point{{{"client", c.client}, {"limit", "messages_per_second"}},
                                static_cast<double>(c.rate_refused)});
    hits.points.push_back(Point{{{"client", c.client}, {"limit", "window_size"}},
                                static_cast<double>(c.window_refused)});
  }
  out.push_back(std::move(hits));
  if (parts.exporter != nullptr) {
    const tracing::OtlpExporterStats t = parts.exporter->stats();
    Family spans{"smppd_trace_spans_total", Type::counter, {}};
    for (const auto& [result, n] : {std::pair<std::string, uint64_t>{"exported", t.exported},
                                    {"rejected", t.rejected},
                                    {"dropped_export", t.dropped},
                                    {"dropped_buffer_full", t.tracer.dropped}}) {
      spans.points.push_back(Point{{{"result", result}}, static_cast<double>(n)});
    }
    out.push_back(std::move(spans));
    single("smppd_trace_export_failures_total", Type::counter,
           static_cast<double>(t.failed_requests));
  }
  if (parts.mnp != nullptr) {
    const MnpLookups::Stats m = parts.mnp->stats();
    if (parts.mnp->enabled() || m.clients.lookups + m.from_cache + m.fallbacks > 0) {
      Family answers{"smppd_mnp_answers_total", Type::counter, {}};
      for (const auto& [source, n] : {std::pair<std::string, uint64_t>{"cache", m.from_cache},
                                      {"provider", m.from_provider},
                                      {"fallback", m.fallbacks}}) {
        answers.points.push_back(Point{{{"source", source}}, static_cast<double>(n)});
      }
      out.push_back(std::move(answers));
      Family requests{"smppd_mnp_requests_total", Type::counter, {}};
      requests.points.push_back(
          Point{{{"result", "answered"}}, static_cast<double>(m.clients.provider_answers)});
      requests.points.push_back(
          Point{{{"result", "failed"}}, static_cast<double>(m.clients.failed_requests)});
      out.push_back(std::move(requests));
      single("smppd_mnp_merged_total", Type::counter, static_cast<double>(m.clients.merged));
      single("smppd_mnp_paused_total", Type::counter, static_cast<double>(m.clients.paused));
      single("smppd_mnp_waiting", Type::gauge,
             static_cast<double>(parts.gateway.awaiting_number()));
    }
  }
  if (parts.store != nullptr) {
    const store::Store::Stats st = parts.store->stats(false);
    single("smppd_store_backlog", Type::gauge, static_cast<double>(st.to_send));
    single("smppd_store_deliveries", Type::gauge, static_cast<double>(st.deliveries));
    single("smppd_store_file_bytes", Type::gauge, static_cast<double>(st.file_bytes));
    if (gateway::StoreForward* sf = parts.gateway.store_forward()) {
      const auto& c = sf->commit_stats();
      single("smppd_store_commits_total", Type::counter, static_cast<double>(c.commits.load()));
      single("smppd_store_writes_total", Type::counter, static_cast<double>(c.writes.load()));
      single("smppd_store_commit_seconds_total", Type::counter,
             static_cast<double>(c.commit_micros.load()) / 1e6);
    }
  }
  return out;
}

void Operations::metrics_text(std::function<void(std::string)> done) {
  Impl* im = impl_.get();
  if (!im->thread.joinable()) {
    // Neither metrics nor management listen: no thread of their own; made here, one at a time.
    static std::mutex alone;
    std::lock_guard lock(alone);
    im->pin();
    done(metrics::render(im->parts.counters, im->computed_families()));
    return;
  }
  asio::post(im->context, [im, done = std::move(done)] {
    im->pin();
    done(metrics::render(im->parts.counters, im->computed_families()));
  });
}

http::Response Operations::Impl::scrape(const http::Request& r) {
  pin();
  if (r.path != cfg().metrics.prometheus_path) {
    return http::json_error(404, "not found", "metrics are at " + cfg().metrics.prometheus_path);
  }
  if (r.method != "GET" && r.method != "HEAD") {
    auto resp = http::json_error(405, "method not allowed", "use GET");
    resp.headers.emplace_back("Allow", "GET, HEAD");
    return resp;
  }
  http::Response resp;
  resp.content_type = "text/plain; version=0.0.4; charset=utf-8";
  resp.body = metrics::render(parts.counters, computed_families());
  return resp;
}

// ---- management ----

bool Operations::Impl::authorized(const http::Request& r) const {
  const auto& m = cfg().management;
  const std::string_view given = r.header("authorization");
  switch (m.auth_type) {
    case config::ManagementAuthType::none:
      return true;
    case config::ManagementAuthType::bearer: {
      if (!given.starts_with("Bearer ")) return false;
      return same_secret(given.substr(7), m.token);
    }
    case config::ManagementAuthType::basic: {
      const auto credentials = http::basic_credentials(given);
      if (!credentials) return false;
      // Both compared, whatever the first gives: the time does not say which was wrong.
      const bool user = same_secret(credentials->first, m.username);
      const bool pass = same_secret(credentials->second, m.password);
      return user && pass;
    }
  }
  return false;
}

http::Response Operations::Impl::manage(const http::Request& r) {
  pin();
  if (!authorized(r)) {
    auto resp = http::json_error(401, "unauthorized", "credentials missing or wrong");
    resp.headers.emplace_back("WWW-Authenticate",
                              cfg().management.auth_type == config::ManagementAuthType::bearer
                                  ? "Bearer realm=\"smppd\""
                                  : "Basic realm=\"smppd\"");
    return resp;
  }
  const auto parts_of = http::split_path(r.path);
  auto method_not_allowed = [](std::string_view allow) {
    auto resp = http::json_error(405, "method not allowed", "allowed: " + std::string(allow));
    resp.headers.emplace_back("Allow", std::string(allow));
    return resp;
  };
  if (parts_of.size() < 2 || parts_of[0] != "api") {
    return http::json_error(404, "not found", "no such endpoint: " + r.path);
  }
  const std::string_view what = parts_of[1];
  std::optional<std::string> arg;
  if (parts_of.size() >= 3) {
    arg = http::percent_decode(parts_of[2]);
    if (!arg) return http::json_error(400, "bad request", "bad percent-encoding in the path");
  }
  const bool get = r.method == "GET" || r.method == "HEAD";
  if (what == "status" && parts_of.size() == 2) {
    return get ? status() : method_not_allowed("GET");
  }
  if (what == "clients") {
    if (parts_of.size() <= 3) return get ? clients(arg) : method_not_allowed("GET");
    if (parts_of.size() == 4 && parts_of[3] == "connections") {
      if (r.method != "DELETE") return method_not_allowed("DELETE");
      if (cfg().find_client(*arg) == nullptr) {
        return http::json_error(404, "no such client", *arg);
      }
      const std::size_t n = disconnect(*arg);
      log::info("management: client {}: {} session(s) unbound by the operator", *arg, n);
      return json_answer(json::object{{"client", *arg}, {"disconnected", n}});
    }
  }
  if (what == "upstreams") {
    if (parts_of.size() <= 3) return get ? upstreams(arg) : method_not_allowed("GET");
    if (parts_of.size() == 4 && (parts_of[3] == "suspend" || parts_of[3] == "resume")) {
      if (r.method != "POST") return method_not_allowed("POST");
      return suspend(*arg, parts_of[3] == "suspend");
    }
  }
  if (what == "routes" && parts_of.size() == 2) {
    return get ? routes() : method_not_allowed("GET");
  }
  if (what == "messages" && parts_of.size() == 3) {
    return get ? message(*arg) : method_not_allowed("GET");
  }
  if (what == "config" && parts_of.size() == 3 && parts_of[2] == "reload") {
    if (r.method != "POST") return method_not_allowed("POST");
    if (!parts.reload) return http::json_error(501, "not built", "reload is not available");
    const ReloadResult result = parts.reload();
    auto strings = [](const std::vector<std::string>& v) {
      json::array a;
      for (const auto& s : v) a.emplace_back(s);
      return a;
    };
    json::object o{{"ok", result.ok},
                   {"applied", strings(result.applied)},
                   {"restart_needed", strings(result.restart_needed)}};
    if (!result.ok) {
      o["error"] = "invalid configuration";
      o["detail"] = result.errors.empty() ? std::string("the file does not load")
                                          : result.errors.front();
      o["errors"] = strings(result.errors);
      return json_answer(o, 422);
    }
    return json_answer(o);
  }
  return http::json_error(404, "not found", "no such endpoint: " + r.path);
}

// The cluster as this node sees it: Redis, every node (alive or gone) and what is wrong: nodes
// discovery expects and does not see, a node_id two processes use, nodes running another
// configuration than this one.
static json::object cluster_status(const cluster::Node& node, const std::string& config_hash) {
  const auto v = node.view();
  json::array nodes;
  json::array other_config;
  for (const auto& n : v.nodes) {
    json::array listeners;
    for (const auto& l : n.listeners) listeners.emplace_back(l);
    json::object sessions;
    for (const auto& [client, count] : n.sessions) sessions[client] = count;
    nodes.push_back(json::object{{"id", n.id},
                                 {"sessions", std::move(sessions)},
                                 {"alive", n.alive},
                                 {"self", n.self},
                                 {"expected", n.expected},
                                 {"hostname", n.hostname},
                                 {"address", n.address},
                                 {"listeners", std::move(listeners)},
                                 {"version", n.version},
                                 {"revision", n.revision},
                                 {"config_sha256", n.config_sha256}});
    if (n.alive && !n.self && n.config_sha256 != config_hash) other_config.emplace_back(n.id);
  }
  json::array missing;
  for (const auto& m : v.missing) missing.emplace_back(m);
  json::array duplicates;
  for (const auto& d : v.duplicates) duplicates.emplace_back(d);
  return json::object{{"node_id", node.node_id()},
                      {"redis", json::object{{"url", v.redis_url},
                                             {"up", v.redis_up},
                                             {"error", v.redis_error}}},
                      {"nodes", std::move(nodes)},
                      {"missing", std::move(missing)},
                      {"duplicate_node_ids", std::move(duplicates)},
                      {"other_config", std::move(other_config)}};
}

http::Response Operations::Impl::status() {
  const config::Config& c = cfg();
  json::object o;
  o["version"] = build_info::version();
  o["revision"] = build_info::revision();
  o["started_at"] = fmt::format("{:%FT%TZ}", std::chrono::floor<std::chrono::seconds>(started));
  o["uptime_seconds"] = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::steady_clock::now() - started_steady)
                            .count();
  {
    std::lock_guard lock(config_mutex);
    o["config"] = json::object{{"file", config_path}, {"sha256", config_hash}};
  }
  json::array listeners;
  for (const auto& [name, endpoint] : parts.endpoints()) {
    if (name.starts_with("upstream:")) continue;
    const config::ListenerConfig* l = nullptr;
    for (const auto& lc : c.listeners) {
      if (lc.name == name) l = &lc;
    }
    json::object j{{"name", name}, {"address", net::endpoint_text(endpoint)}};
    if (l != nullptr) {
      j["type"] = config::to_string(l->type);
      j["tls"] = l->tls.enabled;
    } else if (name == "metrics" || name == "management") {
      j["type"] = "http";
      j["tls"] = name == "management" && c.management.tls.enabled;
    }
    listeners.push_back(std::move(j));
  }
  o["listeners"] = std::move(listeners);
  bool complete = true;
  const auto all = sessions(complete);
  std::size_t bound = 0;
  std::map<std::string, std::size_t> per_client;
  for (const auto& s : all) {
    if (s.state == session::BindState::bound_tx || s.state == session::BindState::bound_rx ||
        s.state == session::BindState::bound_trx) {
      ++bound;
      ++per_client[s.system_id];
    }
  }
  std::size_t healthy = 0;
  const auto pools = parts.gateway.pools();
  for (auto* p : pools) healthy += p->healthy() ? 1 : 0;
  json::object counts{{"sessions", all.size()},
                      {"sessions_bound", bound},
                      {"clients_configured", c.clients.size()},
                      {"clients_bound", per_client.size()},
                      {"upstreams", pools.size()},
                      {"upstreams_healthy", healthy},
                      {"routes", c.routes.size()},
                      {"receipts_held", parts.gateway.held_receipts()}};
  uint64_t accepted = 0;
  uint64_t refused = 0;
  parts.counters.collect([&](const Counters::Sample& s) {
    if (s.name != "smppd_messages_total") return;
    bool mt = false;
    bool ok = false;
    for (const auto& [n, v] : s.labels) {
      if (n == "direction") mt = v == "mt";
      if (n == "status") ok = v == "ESME_ROK";
    }
    if (!mt) return;
    (ok ? accepted : refused) += static_cast<uint64_t>(s.value);
  });
  counts["messages_accepted"] = accepted;
  counts["messages_refused"] = refused;
  o["counts"] = std::move(counts);
  o["storage"] = c.storage.enabled;
  if (!complete) o["partial"] = true;
  if (parts.cluster != nullptr) {
    std::string mine;
    {
      std::lock_guard lock(config_mutex);
      mine = config_hash;
    }
    o["cluster"] = cluster_status(*parts.cluster, mine);
  }
  return json_answer(o);
}

std::map<std::string, Operations::Impl::ClientCounts, std::less<>>
Operations::Impl::client_counts() {
  std::map<std::string, ClientCounts, std::less<>> out;
  parts.counters.collect([&](const Counters::Sample& s) {
    const bool messages = s.name == "smppd_messages_total";
    if (!messages && s.name != "smppd_receipts_total") return;
    std::string_view client;
    std::string_view status;
    bool mt = true;
    for (const auto& [n, v] : s.labels) {
      if (n == "client") client = v;
      if (n == "status") status = v;
      if (n == "direction") mt = v == "mt";
    }
    ClientCounts& c = out[std::string(client)];
    const auto n = static_cast<uint64_t>(s.value);
    if (!messages) {
      c.receipts += n;
    } else if (!mt) {
      c.mo += n;
    } else {
      auto& slot = c.by_status[status];
      slot = (slot.is_uint64() ? slot.as_uint64() : 0) + n;
    }
  });
  return out;
}

json::object Operations::Impl::client_json(const config::ClientConfig& c,
                                           const std::vector<const SessionInfo*>& sessions,
                                           ClientCounts counts) {
  json::object o;
  o["system_id"] = c.system_id;
  o["max_connections"] = c.max_connections;
  {
    json::array ips;
    for (const auto& cidr : c.allowed_ips) ips.emplace_back(cidr.text());
    o["allowed_ips"] = std::move(ips);
    json::array types;
    for (config::BindType t : c.bind_types) {
      types.emplace_back(t == config::BindType::transmitter ? "transmitter"
                         : t == config::BindType::receiver  ? "receiver"
                                                            : "transceiver");
    }
    o["bind_types"] = std::move(types);
    o["upstream"] = c.upstream;
    o["tier"] = c.tier;
    json::object tags;
    for (const auto& [k, v] : c.tags) tags[k] = v;
    o["tags"] = std::move(tags);
  }
  json::array list;
  for (const SessionInfo* s : sessions) {
    list.push_back(json::object{{"id", s->id},
                                {"address", s->remote},
                                {"bind", bind_name(s->state)},
                                {"version", smpp::version_name(s->version)},
                                {"window", s->window},
                                {"in_flight_from_client", s->in_flight_from_peer},
                                {"in_flight_to_client", s->in_flight_to_peer},
                                {"requests_received", s->requests_received},
                                {"responses_received", s->responses_received},
                                {"pending_output_bytes", s->pending_output}});
  }
  o["bound"] = list.size();
  o["sessions"] = std::move(list);
  o["waiting_deliveries"] = parts.gateway.clients().waiting(c.system_id);
  json::object limit{{"messages_per_second", c.rate_limit.messages_per_second},
                     {"burst", c.rate_limit.burst},
                     {"window_size", c.rate_limit.window_size}};
  auto l = parts.gateway.client_limits().find(c.system_id);
  const bool external = !l;
  // An external client (extauth/): its entry, kept since it was admitted.
  if (!l) l = parts.gateway.client_limits().find_external(c.system_id);
  o["authenticated_by"] = external ? "external" : "clients";
  if (l) {
    // in_flight is counted across its sessions only where a window_size bounds it.
    if (c.rate_limit.window_size > 0) limit["in_flight"] = l->window->in_flight.load();
    limit["throttled"] = l->rate.refused();
    limit["window_full"] = l->window->refused.load();
  }
  o["rate_limit"] = std::move(limit);
  o["messages"] = json::object{{"submitted_by_status", std::move(counts.by_status)},
                               {"receipts_delivered", counts.receipts},
                               {"mo_delivered", counts.mo}};
  return o;
}

http::Response Operations::Impl::clients(std::optional<std::string> one) {
  bool complete = true;
  const auto all = sessions(complete);
  // Once each: the sessions by client, the counts by client.
  std::map<std::string_view, std::vector<const SessionInfo*>, std::less<>> by_client;
  for (const auto& s : all) by_client[s.system_id].push_back(&s);
  auto counts = client_counts();
  // With a cluster: each client's bound sessions on every live node (this one included), as
  // their last heartbeats said.
  std::map<std::string, json::object, std::less<>> cluster_sessions;
  if (parts.cluster != nullptr) {
    for (const auto& n : parts.cluster->view().nodes) {
      if (!n.alive) continue;
      for (const auto& [client, count] : n.sessions) cluster_sessions[client][n.id] = count;
    }
  }
  auto of = [&](const config::ClientConfig& c) {
    static const std::vector<const SessionInfo*> none;
    auto sessions_of = by_client.find(c.system_id);
    auto counts_of = counts.find(c.system_id);
    json::object j = client_json(c, sessions_of == by_client.end() ? none : sessions_of->second,
                                 counts_of == counts.end() ? ClientCounts{} : std::move(counts_of->second));
    if (parts.cluster != nullptr) {
      auto nodes = cluster_sessions.find(c.system_id);
      j["cluster_sessions"] = nodes == cluster_sessions.end() ? json::object{} : nodes->second;
    }
    return j;
  };
  json::object o;
  if (one) {
    const config::ClientConfig* c = cfg().find_client(*one);
    auto external = c == nullptr ? parts.gateway.client_limits().external_settings(*one) : nullptr;
    if (c == nullptr && external == nullptr) return http::json_error(404, "no such client", *one);
    o = of(c != nullptr ? *c : *external);
  } else {
    json::array list;
    for (const auto& c : cfg().clients) list.push_back(of(c));
    // Clients external backends admitted since start (at most ClientLimits::kMaxExternal).
    for (const auto& c : parts.gateway.client_limits().external_clients()) list.push_back(of(*c));
    o = json::object{{"clients", std::move(list)}};
  }
  if (!complete) o["partial"] = true;
  return json_answer(o);
}

json::object Operations::Impl::upstream_json(upstream::Pool& pool) {
  const auto& u = pool.config();
  const upstream::Pool::View v = pool.view();
  json::object o;
  o["name"] = u.name;
  o["type"] = config::to_string(u.type);
  o["healthy"] = v.healthy;
  o["suspended"] = v.suspended;
  o["tripped"] = v.tripped;
  o["queued"] = v.queued;
  o["rate_limit"] = u.rate_limit.messages_per_second;
  o["window_size"] = u.window.size;
  json::array hosts;
  const auto& hs = pool.hosts();
  for (std::size_t i = 0; i < hs.size(); ++i) {
    hosts.push_back(json::object{{"address", hs[i].address.to_string()},
                                 {"weight", hs[i].weight},
                                 {"priority", hs[i].priority},
                                 {"healthy", i < v.hosts_healthy.size() && v.hosts_healthy[i]}});
  }
  o["hosts"] = std::move(hosts);
  json::array conns;
  uint64_t in_flight = 0;
  for (const auto& c : v.connections) {
    in_flight += c.in_flight;
    conns.push_back(json::object{
        {"host", c.host < hs.size() ? hs[c.host].address.to_string() : std::string()},
        {"state", !c.up ? "connecting" : c.paused ? "throttled" : c.recycling ? "recycling"
                                                                               : "bound"},
        {"in_flight", c.in_flight},
        {"window", c.window},
        {"up_seconds", static_cast<int64_t>(c.up_seconds)}});
  }
  o["in_flight"] = in_flight;
  o["connections"] = std::move(conns);
  return o;
}

http::Response Operations::Impl::upstreams(std::optional<std::string> one) {
  if (one) {
    upstream::Pool* p = parts.gateway.pool(*one);
    if (p == nullptr) return http::json_error(404, "no such upstream", *one);
    return json_answer(upstream_json(*p));
  }
  json::array list;
  for (upstream::Pool* p : parts.gateway.pools()) list.push_back(upstream_json(*p));
  return json_answer(json::object{{"upstreams", std::move(list)}});
}

http::Response Operations::Impl::suspend(const std::string& name, bool suspend) {
  upstream::Pool* p = parts.gateway.pool(name);
  if (p == nullptr) return http::json_error(404, "no such upstream", name);
  if (suspend) {
    p->suspend();
  } else {
    p->resume();
  }
  log::info("management: upstream {} {} by the operator", name, suspend ? "suspended" : "resumed");
  return json_answer(json::object{{"upstream", name}, {"suspended", p->suspended()}});
}

http::Response Operations::Impl::routes() {
  std::map<std::string, uint64_t, std::less<>> matched;
  parts.counters.collect([&](const Counters::Sample& s) {
    if (s.name != "smppd_route_matches_total" || s.labels.empty()) return;
    matched[s.labels[0].second] += static_cast<uint64_t>(s.value);
  });
  json::array list;
  std::size_t position = 0;
  for (const auto& r : cfg().routes) {
    json::object o{{"name", r.name},
                   {"position", position++},
                   {"upstream", r.upstream},
                   {"failover", r.failover}};
    auto it = matched.find(r.name);
    o["matched"] = it == matched.end() ? 0 : it->second;
    list.push_back(std::move(o));
  }
  return json_answer(json::object{{"routes", std::move(list)}});
}

http::Response Operations::Impl::message(const std::string& text) {
  return rest::message_view(text, parts.store, parts.gateway);
}

}  // namespace smppd::server
