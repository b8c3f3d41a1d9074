#include "cli/upstream_command.hpp"

#include <CLI/CLI.hpp>

#include <boost/json.hpp>

#include <cmath>
#include <cstdio>
#include <exception>
#include <string_view>

#include "cli/api_commands.hpp"
#include "cli/config_load.hpp"
#include "config/config.hpp"
#include "config/values.hpp"
#include "net/tls.hpp"
#include "smpp/command.hpp"
#include "smpp/status.hpp"
#include "upstream/bind.hpp"
#include "upstream/probe.hpp"

namespace smppd::cli {

namespace {

struct UpstreamArgs {
  CLI::App* upstream = nullptr;
  CLI::App* test = nullptr;
  std::string* config_path = nullptr;
  std::string name;
  bool json = false;
  std::string timeout;
};

UpstreamArgs& args() {
  static UpstreamArgs a;
  return a;
}

int usage(const std::string& message) {
  std::fprintf(stderr, "smppd upstream test: %s\n", message.c_str());
  return 2;
}

// "bind_transceiver as system_id "smppd", SMPP 3.4": what the probe will send (no password).
std::string bind_summary(const config::UpstreamConfig& u) {
  std::string text = std::string(smpp::command_name(upstream::make_bind(u.bind).command_id())) +
                     " as system_id \"" + u.bind.system_id + "\"";
  if (!u.bind.system_type.empty()) text += ", system_type \"" + u.bind.system_type + "\"";
  text += ", SMPP " + std::string(smpp::version_name(u.bind.version));
  return text;
}

void print_text(const config::UpstreamConfig& u, const std::vector<upstream::HostProbe>& hosts) {
  std::printf("upstream %s: %zu host%s, %s%s\n", u.name.c_str(), hosts.size(),
              hosts.size() == 1 ? "" : "s", bind_summary(u).c_str(), u.tls.enabled ? ", TLS" : "");
  std::size_t failed = 0;
  for (const auto& h : hosts) {
    std::printf("%s\n", h.host.c_str());
    for (const auto& s : h.steps) {
      std::printf("  %-13s %-6s %9.1f ms  %s\n", s.name.c_str(), s.ok ? "ok" : "FAILED", s.ms,
                  s.detail.c_str());
    }
    if (h.requests_deferred > 0) {
      std::printf(
          "  (the SMSC sent %u request%s while bound, answered ESME_RX_T_APPN so that it keeps "
          "them for smppd)\n",
          h.requests_deferred, h.requests_deferred == 1 ? "" : "s");
    }
    if (h.ok()) {
      std::printf("  OK\n");
    } else {
      ++failed;
      std::printf("  FAILED at %s\n", h.steps.empty() ? "start" : h.steps.back().name.c_str());
    }
  }
  if (failed == 0) {
    std::printf("OK: every host of upstream %s passed\n", u.name.c_str());
  } else {
    std::printf("FAILED: %zu of %zu host%s of upstream %s failed\n", failed, hosts.size(),
                hosts.size() == 1 ? "" : "s", u.name.c_str());
  }
}

// One JSON object: {"upstream", "ok", "bind", "tls", "hosts": [{"host", "ok", ..., "steps":
// [...]}]}; what a host's pass did not reach is null.
void print_json(const config::UpstreamConfig& u, const std::vector<upstream::HostProbe>& hosts) {
  namespace json = boost::json;
  auto string_or_null = [](const std::string& s) -> json::value {
    if (s.empty()) return nullptr;
    return json::string(s);
  };
  bool all_ok = true;
  json::array host_list;
  for (const auto& h : hosts) {
    all_ok = all_ok && h.ok();
    json::array steps;
    for (const auto& s : h.steps) {
      steps.push_back(json::object{{"step", s.name},
                                   {"ok", s.ok},
                                   {"ms", std::round(s.ms * 1000) / 1000},
                                   {"detail", s.detail}});
    }
    json::object o;
    o["host"] = h.host;
    o["ok"] = h.ok();
    o["endpoint"] = string_or_null(h.endpoint);
    o["tls_version"] = string_or_null(h.tls_version);
    o["tls_cipher"] = string_or_null(h.tls_cipher);
    o["bind_status"] =
        h.bind_status ? json::value(json::string(smpp::status_name(*h.bind_status))) : nullptr;
    o["bind_status_code"] = h.bind_status ? json::value(*h.bind_status) : nullptr;
    o["smsc_system_id"] = h.bind_status ? json::value(json::string(h.smsc_system_id)) : nullptr;
    o["sc_interface_version"] =
        h.sc_interface_version ? json::value(*h.sc_interface_version) : nullptr;
    o["version"] = h.version ? json::value(json::string(smpp::version_name(*h.version))) : nullptr;
    o["requests_deferred"] = h.requests_deferred;
    o["steps"] = std::move(steps);
    host_list.push_back(std::move(o));
  }
  const json::object out{{"upstream", u.name},
                         {"ok", all_ok},
                         {"bind", bind_summary(u)},
                         {"tls", u.tls.enabled},
                         {"hosts", std::move(host_list)}};
  std::printf("%s\n", json::serialize(out).c_str());
}

int run_test(const config::Config& config) {
  const UpstreamArgs& a = args();
  const config::UpstreamConfig* u = nullptr;
  std::vector<std::string> names;
  for (const auto& candidate : config.upstreams) {
    names.push_back(candidate.name);
    if (candidate.name == a.name) u = &candidate;
  }
  if (u == nullptr) {
    std::string message = "no upstream '" + a.name + "' in " + *a.config_path;
    if (auto guess = config::closest_match(a.name, names)) {
      message += " (did you mean '" + *guess + "'?)";
    }
    if (names.empty()) {
      message += "; it configures no upstreams";
    } else {
      message += "; its upstreams: ";
      for (std::size_t i = 0; i < names.size(); ++i) message += (i == 0 ? "" : ", ") + names[i];
    }
    return usage(message);
  }
  if (u->type == config::UpstreamType::simulator) {
    return usage("upstream '" + u->name +
                 "' is of type simulator: the SMSC simulator runs inside smppd, it has no hosts "
                 "to connect to, so there is nothing to test");
  }

  upstream::ProbeOptions options;
  if (!a.timeout.empty()) {
    auto parsed = config::parse_duration(a.timeout);
    if (const auto* invalid = std::get_if<config::Invalid>(&parsed)) {
      return usage("--timeout: " + invalid->reason + " (e.g. 2s or 500ms)");
    }
    const auto timeout = std::get<std::chrono::milliseconds>(parsed);
    if (timeout.count() <= 0) return usage("--timeout: must be more than 0 (e.g. 2s or 500ms)");
    options.timeout = timeout;
  }

  // The TLS files are read here, not when the configuration was loaded (config_load.hpp): a
  // file that cannot be used is the configuration's fault, not the host's.
  std::shared_ptr<boost::asio::ssl::context> tls;
  if (u->tls.enabled) {
    net::TlsContextResult made = net::make_client_tls_context(u->tls);
    if (!made.ok()) return usage("upstream '" + u->name + "': " + made.error);
    tls = std::move(made.context);
  }

  const std::vector<upstream::HostProbe> hosts = upstream::probe_upstream(*u, tls.get(), options);
  if (a.json) {
    print_json(*u, hosts);
  } else {
    print_text(*u, hosts);
  }
  std::fflush(stdout);
  for (const auto& h : hosts) {
    if (!h.ok()) return 1;
  }
  return 0;
}

}  // namespace

void add_upstream_command(CLI::App& app, std::string& config_path) {
  UpstreamArgs& a = args();
  a.config_path = &config_path;
  a.upstream = subcommand_of(app, "upstream", "Upstreams (SMSCs)");
  a.upstream->require_subcommand(1);

  a.test = a.upstream->add_subcommand(
      "test",
      "Connect to each host of an upstream as smppd would: resolve, connect, TLS, bind, "
      "enquire_link, unbind, each timed or with its exact failure (no daemon needed)");
  a.test->add_option("name", a.name, "The upstream's name")->required();
  a.test->add_option("-c,--config", config_path, "Configuration file (YAML)");
  a.test->add_flag("--json", a.json, "One JSON object with every host and step");
  a.test->add_option("--timeout", a.timeout,
                     "Replaces every step's timeout (default: the upstream's timeouts), e.g. 2s");
}

std::optional<int> run_upstream_command(const CLI::App&) {
  const UpstreamArgs& a = args();
  // `upstream` with another subcommand than ours is another file's to run.
  if (a.test == nullptr || !a.test->parsed()) return std::nullopt;
  auto config = load_config_for_command(*a.config_path);
  if (!config) return 2;
  try {
    return run_test(*config);
  } catch (const std::exception& e) {
    // Not expected: the probe reports failures as steps.
    std::fprintf(stderr, "smppd upstream test: %s\n", e.what());
    return 2;
  }
}

}  // namespace smppd::cli
