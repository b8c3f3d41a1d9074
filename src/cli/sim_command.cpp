#include "cli/sim_command.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <CLI/CLI.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <string>
#include <variant>

#include "config/values.hpp"
#include "core/log.hpp"
#include "sim/simulator.hpp"

namespace smppd::cli {

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

constexpr std::size_t kMaxCommandLine = 64 * 1024;

struct SimArgs {
  CLI::App* command = nullptr;
  std::string listen;
  std::string receipt_delay = "1s";
  uint32_t delivered = 90;
  uint32_t undeliverable = 5;
  uint32_t expired = 5;
  double throttle_rate = 0;
  double error_rate = 0;
  std::string mo_interval = "0";
  std::string system_id = "smppd-sim";
  std::string grace = "5s";
  std::string log_level = "info";
};

SimArgs& args() {
  static SimArgs a;
  return a;
}

// A value or the message for stderr.
template <class T>
bool take(config::Parsed<T> parsed, T& out, const char* option) {
  if (auto* invalid = std::get_if<config::Invalid>(&parsed)) {
    std::fprintf(stderr, "smppd sim: %s: %s\n", option, invalid->reason.c_str());
    return false;
  }
  out = std::get<T>(parsed);
  return true;
}

// Handles one stdin line. Commands:
//   mo <source> <destination> <text...>   send an MO deliver_sm to any bound receiver
//   stats                                 print the simulator's counters on stdout
void run_line(sim::Simulator& simulator, std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
  while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
  if (line.empty()) return;
  auto word = [&line]() {
    const std::size_t end = std::min(line.find(' '), line.size());
    std::string_view w = line.substr(0, end);
    line.remove_prefix(end);
    while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    return w;
  };
  const std::string_view command = word();
  if (command == "mo") {
    const std::string_view source = word();
    const std::string_view destination = word();
    if (destination.empty()) {
      std::fprintf(stderr, "smppd sim: usage: mo <source> <destination> <text...>\n");
      return;
    }
    simulator.send_mo(source, destination, line);
  } else if (command == "stats") {
    const sim::SimulatorStats s = simulator.stats();
    std::printf(
        "stats sessions=%zu binds=%llu submits=%llu throttled=%llu errors=%llu queue_full=%llu "
        "delivered=%llu undeliverable=%llu expired=%llu receipts_sent=%llu mos_sent=%llu "
        "queued=%zu dropped=%llu pending=%zu\n",
        simulator.session_count(), static_cast<unsigned long long>(s.binds),
        static_cast<unsigned long long>(s.submits_accepted),
        static_cast<unsigned long long>(s.throttled), static_cast<unsigned long long>(s.errors),
        static_cast<unsigned long long>(s.queue_full), static_cast<unsigned long long>(s.delivered),
        static_cast<unsigned long long>(s.undeliverable),
        static_cast<unsigned long long>(s.expired),
        static_cast<unsigned long long>(s.receipts_sent),
        static_cast<unsigned long long>(s.mos_sent), s.queued,
        static_cast<unsigned long long>(s.deliveries_dropped), s.pending_messages);
    std::fflush(stdout);
  } else {
    std::fprintf(stderr, "smppd sim: unknown command '%.*s' (commands: mo, stats)\n",
                 static_cast<int>(command.size()), command.data());
  }
}

// Reads commands from stdin as they come, until EOF or until the simulator stops.
asio::awaitable<void> read_commands(asio::posix::stream_descriptor& in, sim::Simulator& simulator) {
  std::string buffer;
  for (;;) {
    auto [ec, n] =
        co_await asio::async_read_until(in, asio::dynamic_buffer(buffer, kMaxCommandLine), '\n',
                                        asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::not_found) {
      std::fprintf(stderr, "smppd sim: command line longer than %zu octets ignored\n",
                   kMaxCommandLine);
      buffer.clear();
      continue;
    }
    if (ec) {
      // EOF: the last line may lack its newline.
      if (ec == asio::error::eof && !buffer.empty()) run_line(simulator, buffer);
      co_return;
    }
    run_line(simulator, std::string_view(buffer).substr(0, n - 1));
    buffer.erase(0, n);
  }
}

std::optional<log::Level> parse_level(std::string_view s) {
  if (s == "debug") return log::Level::debug;
  if (s == "info") return log::Level::info;
  if (s == "warn") return log::Level::warn;
  if (s == "error") return log::Level::error;
  return std::nullopt;
}

int run(const SimArgs& a) {
  const std::optional<log::Level> level = parse_level(a.log_level);
  if (!level) {
    std::fprintf(stderr, "smppd sim: --log-level: expected debug, info, warn or error\n");
    return 2;
  }
  config::HostPort listen;
  std::chrono::milliseconds grace{};
  config::SimulatorConfig cfg;
  if (!take(config::parse_host_port(a.listen, true), listen, "--listen") ||
      !take(config::parse_duration(a.receipt_delay), cfg.receipt_delay, "--receipt-delay") ||
      !take(config::parse_duration(a.mo_interval), cfg.mo_interval, "--mo-interval") ||
      !take(config::parse_duration(a.grace), grace, "--shutdown-grace")) {
    return 2;
  }
  // The outcome percentages: all three default to 90/5/5; naming any of them sets the others
  // not named to 0, and then they must add up to 100 (as in the configuration file).
  const CLI::App& c = *a.command;
  const bool any_outcome =
      c.count("--delivered") + c.count("--undeliverable") + c.count("--expired") > 0;
  cfg.delivered = any_outcome && c.count("--delivered") == 0 ? 0 : a.delivered;
  cfg.undeliverable = any_outcome && c.count("--undeliverable") == 0 ? 0 : a.undeliverable;
  cfg.expired = any_outcome && c.count("--expired") == 0 ? 0 : a.expired;
  const uint64_t sum = uint64_t{cfg.delivered} + cfg.undeliverable + cfg.expired;
  if (sum != 100) {
    std::fprintf(stderr,
                 "smppd sim: --delivered, --undeliverable and --expired must add up to 100, "
                 "not %llu\n",
                 static_cast<unsigned long long>(sum));
    return 2;
  }
  cfg.throttle_rate = a.throttle_rate;
  cfg.error_rate = a.error_rate;

  log::Settings log_settings;
  log_settings.level = *level;
  log::setup(log_settings);

  asio::io_context io;
  tcp::endpoint endpoint;
  try {
    if (listen.host.empty()) {
      endpoint = tcp::endpoint(tcp::v4(), listen.port);
    } else {
      tcp::resolver resolver(io);
      endpoint = *resolver.resolve(listen.host, std::to_string(listen.port)).begin();
    }
  } catch (const boost::system::system_error& e) {
    std::fprintf(stderr, "smppd sim: cannot resolve '%s': %s\n", listen.host.c_str(),
                 e.code().message().c_str());
    return 1;
  }

  sim::SimulatorOptions options;
  options.system_id = a.system_id;
  std::optional<sim::Simulator> simulator;
  try {
    simulator.emplace(io, cfg, options);
    endpoint = simulator->listen(endpoint);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "smppd sim: %s\n", e.what());
    return 2;
  } catch (const boost::system::system_error& e) {
    std::fprintf(stderr, "smppd sim: cannot listen on %s: %s\n", listen.to_string().c_str(),
                 e.code().message().c_str());
    return 1;
  }
  const config::HostPort bound{endpoint.address().to_string(), endpoint.port()};
  std::printf("sim listening on %s\n", bound.to_string().c_str());
  std::fflush(stdout);

  // stdin: a pipe or terminal is read as commands arrive; a regular file (which cannot be
  // polled) is read whole now; anything else (/dev/null) gives no commands. The descriptor is
  // a duplicate, so closing it leaves stdin itself alone; the O_NONBLOCK that Asio sets on the
  // shared file description is undone at exit, for the shell that shares a terminal with us.
  // Run in the background of a shell, reading the terminal fails (EIO) instead of stopping the
  // process with SIGTTIN: the simulator then just takes no commands.
  std::signal(SIGTTIN, SIG_IGN);
  const int stdin_flags = ::fcntl(STDIN_FILENO, F_GETFL);
  std::optional<asio::posix::stream_descriptor> in;
  struct stat st {};
  if (::fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode)) {
    std::string line;
    while (std::getline(std::cin, line)) run_line(*simulator, line);
  } else if (const int fd = ::dup(STDIN_FILENO); fd >= 0) {
    boost::system::error_code ec;
    in.emplace(io);
    in->assign(fd, ec);
    if (ec) {
      ::close(fd);
      in.reset();
    } else {
      asio::co_spawn(io, read_commands(*in, *simulator), asio::detached);
    }
  }

  // The first SIGTERM/SIGINT unbinds every session (at most `grace`); a second one closes them
  // at once. Once no session is left, nothing keeps io.run() going and the process exits 0.
  asio::signal_set signals(io, SIGINT, SIGTERM);
  asio::steady_timer poll(io);
  std::function<void()> wait_for_sessions = [&] {
    if (!simulator || simulator->session_count() == 0) {
      signals.cancel();
      return;
    }
    poll.expires_after(std::chrono::milliseconds(20));
    poll.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) wait_for_sessions();
    });
  };
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    log::info("smppd sim: signal {}: unbinding every session", signal);
    simulator->stop(grace);
    if (in) {
      boost::system::error_code ignored;
      in->close(ignored);
    }
    signals.async_wait([&](const boost::system::error_code& ec2, int) {
      if (ec2) return;
      log::warn("smppd sim: second signal: closing every session now");
      poll.cancel();
      simulator.reset();
    });
    wait_for_sessions();
  });

  io.run();
  if (stdin_flags >= 0) ::fcntl(STDIN_FILENO, F_SETFL, stdin_flags);
  return 0;
}

}  // namespace

void add_sim_command(CLI::App& app) {
  SimArgs& a = args();
  CLI::App* c = app.add_subcommand("sim", "Run the built-in SMSC simulator");
  a.command = c;
  c->add_option("--listen", a.listen, "Address to accept ESMEs on, HOST:PORT (port 0: any free)")
      ->required();
  c->add_option("--receipt-delay", a.receipt_delay, "Delay before a receipt (e.g. 100ms, 1s)")
      ->capture_default_str();
  c->add_option("--delivered", a.delivered, "Percent of messages delivered")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  c->add_option("--undeliverable", a.undeliverable, "Percent of messages undeliverable")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  c->add_option("--expired", a.expired, "Percent of messages expired")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  c->add_option("--throttle-rate", a.throttle_rate, "Percent of submits answered ESME_RTHROTTLED")
      ->check(CLI::Range(0.0, 100.0));
  c->add_option("--error-rate", a.error_rate, "Percent of submits answered ESME_RSYSERR")
      ->check(CLI::Range(0.0, 100.0));
  c->add_option("--mo-interval", a.mo_interval, "Send an MO message this often (0: never)")
      ->capture_default_str();
  c->add_option("--system-id", a.system_id, "system_id in bind responses")->capture_default_str();
  c->add_option("--shutdown-grace", a.grace,
                "On SIGTERM/SIGINT, wait this long for sessions to unbind")
      ->capture_default_str();
  c->add_option("--log-level", a.log_level, "debug, info, warn or error")->capture_default_str();
  c->footer(
      "Naming any of --delivered/--undeliverable/--expired sets the others to 0; they must add "
      "up to 100.\nCommands on stdin: 'mo <source> <destination> <text...>' sends an MO, "
      "'stats' prints the counters.");
}

std::optional<int> run_sim_command(const CLI::App& app) {
  if (!app.got_subcommand("sim")) return std::nullopt;
  return run(args());
}

}  // namespace smppd::cli
