// smppd command line: the daemon and its subcommands. Only parses arguments and hands over.
#include <malloc.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "cli/api_commands.hpp"
#include "cli/cdr_command.hpp"
#include "cli/config_load.hpp"
#include "cli/health_command.hpp"
#include "cli/route_command.hpp"
#include "cli/sim_command.hpp"
#include "cli/upstream_command.hpp"
#include "core/build_info.hpp"
#include "config/loader.hpp"
#include "core/log.hpp"
#include "gateway/route_scripts.hpp"
#include "server/server.hpp"

namespace {

void print_summary(const std::string& path, const smppd::config::Config& c) {
  std::printf("%s: configuration is valid\n", path.c_str());
  std::printf("  %zu listener(s), %zu upstream(s), %zu route(s), %zu mo_route(s), %zu client(s)\n",
              c.listeners.size(), c.upstreams.size(), c.routes.size(), c.mo_routes.size(),
              c.clients.size());
  for (const auto& l : c.listeners) {
    std::printf("  listener %s: %s on %s%s\n", l.name.c_str(),
                std::string(smppd::config::to_string(l.type)).c_str(),
                l.address.to_string().c_str(), l.tls.enabled ? " (TLS)" : "");
  }
  for (const auto& u : c.upstreams) {
    std::printf("  upstream %s: %s, %zu host(s)\n", u.name.c_str(),
                std::string(smppd::config::to_string(u.type)).c_str(), u.hosts.size());
  }
}

smppd::log::Settings log_settings(const smppd::config::LoggingConfig& c) {
  using smppd::config::LogFormat;
  using smppd::config::LogOutput;
  smppd::log::Settings s;
  s.level = smppd::server::log_level(c.level);
  s.format = c.format == LogFormat::json ? smppd::log::Format::json : smppd::log::Format::text;
  switch (c.output) {
    case LogOutput::stdout_:
      s.output = smppd::log::Output::stdout_;
      break;
    case LogOutput::stderr_:
      s.output = smppd::log::Output::stderr_;
      break;
    case LogOutput::file:
      s.output = smppd::log::Output::file;
      break;
  }
  s.file_path = c.file_path;
  s.rotation_size = c.rotation_size;
  s.rotation_max_files = c.rotation_max_files;
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"smppd: SMPP gateway, router, load balancer and proxy"};
  app.set_version_flag("--version", "smppd " + std::string(smppd::build_info::version()) +
                                        " (revision " +
                                        std::string(smppd::build_info::revision()) + ")");
  std::string config_path = "/etc/smppd/smppd.yaml";
  app.add_option("-c,--config", config_path, "Configuration file (YAML)");
  std::size_t threads = 0;
  app.add_option("-t,--threads", threads, "Worker threads (0: one per core)")
      ->check(CLI::Range(0, 1024));

  auto* validate = app.add_subcommand("validate", "Check a configuration file and exit");
  validate->add_option("-c,--config", config_path, "Configuration file (YAML)");
  smppd::cli::add_sim_command(app);
  smppd::cli::add_route_command(app, config_path);
  smppd::cli::add_cdr_command(app, config_path);
  smppd::cli::add_api_commands(app, config_path);
  smppd::cli::add_upstream_command(app, config_path);
  smppd::cli::add_health_command(app, config_path);

  CLI11_PARSE(app, argc, argv);
  // Large blocks (a configuration's text, its YAML tree, the router's tables while they are
  // built) are mapped on their own and unmapped when freed. glibc's default threshold grows with
  // each large block freed, after which such blocks stay in the heap, resident, once freed: with
  // 100,000 routes that kept about 30 MB.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  if (auto code = smppd::cli::run_sim_command(app)) return *code;
  if (auto code = smppd::cli::run_route_command(app)) return *code;
  if (auto code = smppd::cli::run_cdr_command(app)) return *code;
  if (auto code = smppd::cli::run_api_commands(app)) return *code;
  if (auto code = smppd::cli::run_upstream_command(app)) return *code;
  if (auto code = smppd::cli::run_health_command(app)) return *code;

  // Routing scripts are compiled too: one that does not serve fails here with its line.
  auto result = smppd::config::load_config_file(
      config_path, smppd::config::process_env, {}, smppd::gateway::check_route_script);
  if (!result.ok()) {
    smppd::cli::print_config_errors(result);
    return 1;
  }
  if (validate->parsed()) {
    print_summary(config_path, *result.config);
    // Keys accepted and ignored (config/keys.hpp), each at its file:line. Routes that need
    // 'mnc', 'is_ported' or 'script' are among them: they never match.
    for (const auto& w : result.warnings) std::fprintf(stderr, "%s\n", w.to_string().c_str());
    return 0;
  }

  // The YAML text and tree of a large configuration are freed by now; give their pages back
  // rather than keep them as the daemon's resident size.
  malloc_trim(0);
  try {
    smppd::log::setup(log_settings(result.config->logging));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "smppd: cannot set up logging: %s\n", e.what());
    return 1;
  }
  // The same warnings as `smppd validate`: what the configuration asks that smppd will not do.
  for (const auto& w : result.warnings) {
    smppd::log::warn("{}:{}:{}: {}", w.file, w.line, w.column, w.message);
  }
  // Every session is a descriptor: take all the system allows (the hard limit).
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  smppd::server::ServerOptions options;
  options.threads = threads;
  smppd::server::Server server(result.config, options);
  return server.run();
}
