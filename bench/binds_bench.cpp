// 10,000 concurrent bound ESME sessions against a running smppd, held idle with enquire_link
// traffic both ways. Measures how long the binds take and smppd's resident memory per session.
//
//   binds_bench --smppd build/release/src/cli/smppd [--sessions 10000] [--hold 10]
//
// It writes a configuration (one listener on a free loopback port, one client), starts smppd
// on it as a child process, reads the child's VmRSS from /proc before and after, and raises
// its own and the child's file-descriptor limit to the hard limit. Targets (issue "SMPP
// sessions and the daemon"): all bound within 3 s, at most 8 KB of resident memory each.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "api/http/client.hpp"
#include "session/session.hpp"
#include "smpp/status.hpp"

namespace {

namespace asio = boost::asio;
using namespace smppd::session;
using tcp = asio::ip::tcp;
using std::chrono::steady_clock;

struct Tally {
  std::size_t bound = 0;
  std::size_t refused = 0;
  std::size_t closed = 0;
  std::size_t connect_failed = 0;
};

class BenchHandler final : public SessionHandler {
 public:
  explicit BenchHandler(Tally& t) : tally_(t) {}
  void on_bind_response(Session&, const smpp::Pdu& r) override {
    if (r.command_status == smpp::status::ESME_ROK) {
      ++tally_.bound;
    } else {
      ++tally_.refused;
    }
  }
  void on_request(Session& s, smpp::Pdu& request) override {
    smpp::Pdu r = smpp::make_response(request.command_id(), request.sequence_number,
                                      smpp::status::ESME_ROK);
    s.respond(r);
  }
  void on_closed(Session&, std::string_view) override { ++tally_.closed; }

 private:
  Tally& tally_;
};

long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

void raise_fd_limit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
}

uint16_t free_port() {
  asio::io_context io;
  tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

bool wait_listening(uint16_t port) {
  for (int i = 0; i < 200; ++i) {
    asio::io_context io;
    tcp::socket s(io);
    boost::system::error_code ec;
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
    if (!ec) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"10,000 concurrent binds against smppd"};
  std::string smppd = "build/release/src/cli/smppd";
  std::size_t sessions = 10000;
  int hold_seconds = 10;
  std::size_t parallel = 256;
  app.add_option("--smppd", smppd, "The smppd binary");
  app.add_option("--sessions", sessions, "Sessions to bind");
  app.add_option("--hold", hold_seconds, "Seconds to hold them with enquire_link traffic");
  app.add_option("--parallel", parallel, "Connects in flight at once");
  bool scrape = false;
  app.add_flag("--scrape", scrape,
               "With every session bound, time scrapes of /metrics (target < 100 ms) and "
               "GET /api/clients");
  CLI11_PARSE(app, argc, argv);

  raise_fd_limit();
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < sessions + 64) {
    std::fprintf(stderr, "warning: file-descriptor limit %llu is below what %zu sessions need\n",
                 static_cast<unsigned long long>(limit.rlim_cur), sessions);
  }

  const uint16_t port = free_port();
  char config_path[] = "/tmp/smppd-binds-bench-XXXXXX";
  const int fd = mkstemp(config_path);
  std::string config =
      "listeners:\n"
      "  - name: bench\n"
      "    type: smpp\n"
      "    address: 127.0.0.1:" + std::to_string(port) + "\n"
      "    max_connections: " + std::to_string(sessions + 100) + "\n"
      // Every session comes from 127.0.0.1, many connecting at once: the per-address and
      // not-yet-bound limits (made for hostile peers) are lifted.
      "    max_connections_per_ip: 0\n"
      "    max_unbound_connections: 0\n"
      "    max_unbound_connections_per_ip: 0\n"
      "    smpp: { enquire_link_interval: 1s, enquire_link_timeout: 10s }\n"
      "clients:\n"
      "  - system_id: bench\n"
      "    password: bench\n"
      "logging: { level: warn }\n";
  const uint16_t metrics_port = free_port();
  const uint16_t management_port = free_port();
  if (scrape) {
    config += "metrics: { prometheus: { address: 127.0.0.1:" + std::to_string(metrics_port) +
              " } }\nmanagement: { address: 127.0.0.1:" + std::to_string(management_port) +
              " }\n";
  }
  if (write(fd, config.data(), config.size()) != static_cast<ssize_t>(config.size())) return 1;
  close(fd);

  const pid_t child = fork();
  if (child == 0) {
    std::freopen("/dev/null", "w", stdout);
    execl(smppd.c_str(), smppd.c_str(), "--config", config_path, static_cast<char*>(nullptr));
    std::perror("exec smppd");
    _exit(127);
  }
  if (!wait_listening(port)) {
    std::fprintf(stderr, "smppd did not start listening on %u\n", port);
    kill(child, SIGKILL);
    return 1;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const long rss_before = rss_kib(child);

  asio::io_context io{1};
  Tally tally;
  SessionSettings settings;
  settings.role = Role::esme;
  settings.enquire_link_interval = std::chrono::seconds(1);
  settings.window_size = 10;
  auto shared_settings = std::make_shared<const SessionSettings>(settings);
  std::vector<std::weak_ptr<Session>> all;
  all.reserve(sessions);
  const tcp::endpoint target(asio::ip::make_address("127.0.0.1"), port);
  std::size_t next = 0;
  const auto started = steady_clock::now();
  auto connector = [&]() -> asio::awaitable<void> {
    while (next < sessions) {
      ++next;
      tcp::socket socket(io);
      auto [ec] = co_await socket.async_connect(target, asio::as_tuple(asio::use_awaitable));
      if (ec) {
        ++tally.connect_failed;
        continue;
      }
      auto s = std::make_shared<Session>(Transport(std::move(socket)), shared_settings,
                                         std::make_unique<BenchHandler>(tally));
      s->start();
      smpp::BindTransceiver b;
      b.system_id.assign("bench");
      b.password.assign("bench");
      b.interface_version = 0x34;
      smpp::Pdu pdu = smpp::make_pdu(0, b);
      s->bind(pdu, smpp::Version::v34);
      all.push_back(s);
    }
  };
  for (std::size_t i = 0; i < parallel; ++i) asio::co_spawn(io, connector(), asio::detached);

  // Run until every session is bound or refused (or 30 s).
  double bound_seconds = -1;
  while (steady_clock::now() - started < std::chrono::seconds(30)) {
    io.run_for(std::chrono::milliseconds(5));
    if (tally.bound + tally.refused + tally.connect_failed + tally.closed >= sessions) {
      bound_seconds = std::chrono::duration<double>(steady_clock::now() - started).count();
      break;
    }
  }
  const long rss_bound = rss_kib(child);
  bool scrape_ok = true;
  if (scrape) {
    // Each scrape blocks this thread (our sessions wait; their enquire_link timeout is 10 s).
    auto time_get = [&](uint16_t p, const char* path, std::size_t& bytes) {
      smppd::http::ClientRequest r;
      r.port = p;
      r.target = path;
      const auto t0 = steady_clock::now();
      const smppd::http::ClientResult res = smppd::http::fetch(r);
      const double ms = std::chrono::duration<double, std::milli>(steady_clock::now() - t0).count();
      bytes = res.answer ? res.answer->body.size() : 0;
      if (!res.answer || res.answer->status != 200) return -1.0;
      return ms;
    };
    for (const auto& [p, path, bound_ms] :
         {std::tuple{metrics_port, "/metrics", 100.0}, std::tuple{management_port, "/api/clients", 0.0},
          std::tuple{management_port, "/api/status", 0.0}}) {
      double worst = 0;
      std::size_t bytes = 0;
      for (int i = 0; i < 5; ++i) {
        const double ms = time_get(p, path, bytes);
        if (ms < 0) scrape_ok = false;
        worst = std::max(worst, ms);
        io.run_for(std::chrono::milliseconds(100));
      }
      std::printf("GET %s with %zu sessions bound: worst of 5 %.1f ms, %zu bytes%s\n", path,
                  tally.bound, worst, bytes,
                  bound_ms > 0 ? (worst < bound_ms ? " (target < 100 ms)" : " (TARGET < 100 ms MISSED)")
                            : "");
      if (bound_ms > 0 && worst >= bound_ms) scrape_ok = false;
    }
  }
  io.run_for(std::chrono::seconds(hold_seconds));
  const long rss_held = rss_kib(child);
  const std::size_t still_bound = tally.bound - std::min(tally.bound, tally.closed);

  std::printf("sessions: %zu requested, %zu bound, %zu refused, %zu connect failures, %zu closed\n",
              sessions, tally.bound, tally.refused, tally.connect_failed, tally.closed);
  std::printf("all bound in: %.3f s (target <= 3 s)\n", bound_seconds);
  std::printf("smppd RSS: %ld KiB before, %ld KiB bound, %ld KiB after %d s of enquire_link\n",
              rss_before, rss_bound, rss_held, hold_seconds);
  const double per_session =
      tally.bound > 0 ? static_cast<double>(rss_held - rss_before) / static_cast<double>(tally.bound)
                      : 0;
  std::printf("per session: %.2f KiB (target <= 8 KiB)\n", per_session);
  std::printf("still bound after the hold: %zu\n", still_bound);
  const bool ok = tally.bound == sessions && bound_seconds >= 0 && bound_seconds <= 3.0 &&
                  per_session <= 8.0 && still_bound == sessions && scrape_ok;
  std::printf("result: %s\n", ok ? "targets met" : "TARGETS MISSED");

  kill(child, SIGTERM);
  for (auto& w : all) {
    if (auto s = w.lock()) s->close("bench over");
  }
  io.run_for(std::chrono::seconds(2));
  int status = 0;
  waitpid(child, &status, 0);
  unlink(config_path);
  return ok ? 0 : 1;
}
