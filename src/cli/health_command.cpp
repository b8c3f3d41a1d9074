#include "cli/health_command.hpp"

#include <cstdio>
#include <string>
#include <string_view>

#include "api/http/client.hpp"
#include "config/loader.hpp"

namespace smppd::cli {

namespace {

struct HealthArgs {
  CLI::App* command = nullptr;
  std::string* config_path = nullptr;
  std::string url;  // http(s)://host:port, overrides the file
  bool live = false;
  int timeout_ms = 3000;
};

HealthArgs& args() {
  static HealthArgs a;
  return a;
}

// The first HTTP listener of the configuration: where the daemon answers /health. A wildcard
// address is asked on loopback.
std::optional<std::string> from_config(http::ClientRequest& r, const std::string& path) {
  // Only where the HTTP listener is: a probe must not fail for a file it does not need (a key
  // only the daemon's user may read) nor for a ${VAR} set only in the daemon's environment.
  config::LoadOptions options;
  options.check_files = false;
  const config::EnvLookup env = [](std::string_view name) -> std::optional<std::string> {
    if (auto v = config::process_env(name)) return v;
    return std::string();
  };
  const auto loaded = config::load_config_file(path, env, options);
  if (!loaded.ok()) {
    std::string why = path + ": the configuration does not load (or give --url):";
    for (const auto& e : loaded.errors) why += "\n  " + e.to_string();
    return why;
  }
  for (const auto& l : loaded.config->listeners) {
    if (l.type != config::ListenerType::http) continue;
    r.host = l.address.host.empty() || l.address.host == "0.0.0.0" ? "127.0.0.1"
             : l.address.host == "::"                              ? "::1"
                                                                   : l.address.host;
    r.port = l.address.port;
    r.tls = l.tls.enabled;
    return std::nullopt;
  }
  return path + ": no listener of type http, where /health is answered (add one, or give --url)";
}

std::optional<std::string> from_url(http::ClientRequest& r, std::string_view rest) {
  if (rest.starts_with("https://")) {
    r.tls = true;
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  }
  while (rest.ends_with('/')) rest.remove_suffix(1);
  const auto colon = rest.rfind(':');
  if (colon == std::string_view::npos) return "--url: give http(s)://host:port";
  std::string host(rest.substr(0, colon));
  if (host.size() > 1 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  r.host = host;
  try {
    const int port = std::stoi(std::string(rest.substr(colon + 1)));
    if (port <= 0 || port > 65535) throw std::out_of_range("port");
    r.port = static_cast<uint16_t>(port);
  } catch (const std::exception&) {
    return "--url: not a port";
  }
  return std::nullopt;
}

}  // namespace

void add_health_command(CLI::App& app, std::string& config_path) {
  HealthArgs& a = args();
  a.config_path = &config_path;
  a.command = app.add_subcommand(
      "health", "Ask the running daemon's HTTP listener whether it is ready (exit 0) or not (1)");
  a.command->add_option("-c,--config", config_path, "Configuration file: where its HTTP listener is");
  a.command->add_option("--url", a.url, "The HTTP listener, e.g. http://127.0.0.1:8080 (overrides the file)");
  a.command->add_flag("--live", a.live,
                      "Only whether it answers (GET /health/live), not whether it can send");
  a.command->add_option("--timeout", a.timeout_ms, "Milliseconds to wait for the answer")
      ->check(CLI::Range(1, 600000));
}

std::optional<int> run_health_command(const CLI::App&) {
  const HealthArgs& a = args();
  if (a.command == nullptr || !a.command->parsed()) return std::nullopt;
  http::ClientRequest r;
  const auto error = a.url.empty() ? from_config(r, *a.config_path) : from_url(r, a.url);
  if (error) {
    std::fprintf(stderr, "%s\n", error->c_str());
    return 2;
  }
  // A probe of the daemon on this host: it sends no credentials, and the listener's
  // certificate names the service, not the loopback address asked.
  r.verify = false;
  r.target = a.live ? "/health/live" : "/health";
  r.timeout = std::chrono::milliseconds(a.timeout_ms);
  const http::ClientResult result = http::fetch(r);
  const std::string where = std::string(r.tls ? "https://" : "http://") + r.host + ":" +
                            std::to_string(r.port) + r.target;
  if (!result.answer) {
    std::fprintf(stderr, "%s: %s\n", where.c_str(),
                 result.refused ? "connection refused (smppd is not running)" : result.error.c_str());
    return 1;
  }
  std::printf("%s: %u %s\n", where.c_str(), result.answer->status, result.answer->body.c_str());
  return result.answer->status == 200 ? 0 : 1;
}

}  // namespace smppd::cli
