#include "cli/api_commands.hpp"

#include <openssl/evp.h>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <variant>
#include <cstdio>
#include <string>
#include <vector>

#include "api/http/client.hpp"
#include "config/loader.hpp"

namespace smppd::cli {

namespace json = boost::json;

namespace {

struct ApiArgs {
  std::string* config_path = nullptr;
  std::string api;  // http(s)://host:port
  std::string user;
  std::string password;
  std::string token;
  std::string ca;
  bool insecure = false;
  bool json = false;
  std::string client;    // stats --client
  std::string upstream;  // stats --upstream
  bool routes = false;   // stats --routes
  std::string id;        // client disconnect ID, upstream suspend NAME
  CLI::App* status = nullptr;
  CLI::App* client_list = nullptr;
  CLI::App* client_disconnect = nullptr;
  CLI::App* upstream_list = nullptr;
  CLI::App* upstream_suspend = nullptr;
  CLI::App* upstream_resume = nullptr;
  CLI::App* stats = nullptr;
};

ApiArgs& args() {
  static ApiArgs a;
  return a;
}

void common_options(CLI::App* c, ApiArgs& a) {
  c->add_option("-c,--config", *a.config_path,
                "Configuration file: where the management API is and its credentials");
  c->add_option("--api", a.api, "The management API, e.g. http://127.0.0.1:8081 (overrides the file)");
  c->add_option("--user", a.user, "Basic auth user (overrides the file)");
  c->add_option("--password", a.password, "Basic auth password (overrides the file)");
  c->add_option("--token", a.token, "Bearer token (overrides the file)");
  c->add_option("--ca", a.ca, "HTTPS: the CA that signed the API's certificate");
  c->add_flag("--insecure", a.insecure, "HTTPS: do not check the API's certificate");
  c->add_flag("--json", a.json, "Print the API's JSON answer");
}

std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// Where and how to reach the API; an error message (exit 2) when it cannot be known.
struct Target {
  http::ClientRequest base;
  std::string url;  // for messages
};

std::variant<Target, std::string> target() {
  const ApiArgs& a = args();
  Target t;
  std::string user = a.user;
  std::string password = a.password;
  std::string token = a.token;
  if (a.api.empty()) {
    const auto loaded = config::load_config_file(*a.config_path);
    if (!loaded.ok()) {
      std::string why = *a.config_path + ": the configuration does not load (or give --api):";
      for (const auto& e : loaded.errors) why += "\n  " + e.to_string();
      return why;
    }
    const auto& m = loaded.config->management;
    if (!m.enabled) {
      return *a.config_path +
             ": the management API is not enabled (add a 'management' section, or give --api)";
    }
    t.base.host = m.address.host.empty() || m.address.host == "0.0.0.0" ? "127.0.0.1"
                  : m.address.host == "::"                              ? "::1"
                                                                        : m.address.host;
    t.base.port = m.address.port;
    t.base.tls = m.tls.enabled;
    if (user.empty() && m.auth_type == config::ManagementAuthType::basic) user = m.username;
    if (password.empty() && m.auth_type == config::ManagementAuthType::basic) {
      password = m.password;
    }
    if (token.empty() && m.auth_type == config::ManagementAuthType::bearer) token = m.token;
  } else {
    std::string_view rest = a.api;
    if (rest.starts_with("https://")) {
      t.base.tls = true;
      rest.remove_prefix(8);
    } else if (rest.starts_with("http://")) {
      rest.remove_prefix(7);
    }
    while (rest.ends_with('/')) rest.remove_suffix(1);
    const auto colon = rest.rfind(':');
    if (colon == std::string_view::npos) return "--api " + a.api + ": give host:port";
    std::string host(rest.substr(0, colon));
    if (host.size() > 1 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    t.base.host = host;
    try {
      const int port = std::stoi(std::string(rest.substr(colon + 1)));
      if (port <= 0 || port > 65535) throw std::out_of_range("port");
      t.base.port = static_cast<uint16_t>(port);
    } catch (const std::exception&) {
      return "--api " + a.api + ": not a port";
    }
  }
  t.base.ca_file = a.ca;
  t.base.verify = !a.insecure;
  if (!token.empty()) {
    t.base.headers.emplace_back("Authorization", "Bearer " + token);
  } else if (!user.empty()) {
    t.base.headers.emplace_back("Authorization", "Basic " + base64(user + ":" + password));
  }
  const bool v6 = t.base.host.find(':') != std::string::npos;
  t.url = std::string(t.base.tls ? "https://" : "http://") + (v6 ? "[" : "") + t.base.host +
          (v6 ? "]" : "") + ":" + std::to_string(t.base.port);
  return t;
}

// One call. On failure, says why and gives the exit code.
std::variant<json::value, int> call(const Target& t, std::string method, std::string path) {
  http::ClientRequest r = t.base;
  r.method = std::move(method);
  r.target = std::move(path);
  const http::ClientResult result = http::fetch(r);
  if (!result.answer) {
    if (result.refused) {
      std::fprintf(stderr, "smppd is not running at %s (connection refused)\n", t.url.c_str());
    } else {
      std::fprintf(stderr, "cannot reach smppd at %s: %s\n", t.url.c_str(), result.error.c_str());
    }
    return 1;
  }
  json::value v;
  boost::system::error_code ec;
  v = json::parse(result.answer->body, ec);
  if (ec) {
    std::fprintf(stderr, "%s%s: answer %u is not JSON\n", t.url.c_str(), r.target.c_str(),
                 result.answer->status);
    return 1;
  }
  if (result.answer->status == 401) {
    std::fprintf(stderr,
                 "smppd at %s refused the credentials (401): check management.auth, or give "
                 "--user/--password or --token\n",
                 t.url.c_str());
    return 1;
  }
  if (result.answer->status >= 400) {
    const json::object* o = v.if_object();
    std::string error = "error";
    std::string detail;
    if (o != nullptr) {
      if (const auto* e = o->if_contains("error"); e && e->is_string()) error = e->as_string().c_str();
      if (const auto* d = o->if_contains("detail"); d && d->is_string()) detail = d->as_string().c_str();
    }
    std::fprintf(stderr, "smppd refused (%u): %s%s%s\n", result.answer->status, error.c_str(),
                 detail.empty() ? "" : ": ", detail.c_str());
    return 1;
  }
  return v;
}

// A path segment with everything but unreserved characters percent-encoded.
std::string segment(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    }
  }
  return out;
}

std::string text(const json::value* v) {
  if (v == nullptr || v->is_null()) return "-";
  if (v->is_string()) return std::string(v->as_string());
  if (v->is_bool()) return v->as_bool() ? "yes" : "no";
  if (v->is_int64()) return std::to_string(v->as_int64());
  if (v->is_uint64()) return std::to_string(v->as_uint64());
  if (v->is_double()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v->as_double());
    return buf;
  }
  return json::serialize(*v);
}

std::string field(const json::value& o, std::string_view key) {
  const json::object* obj = o.if_object();
  return text(obj != nullptr ? obj->if_contains(key) : nullptr);
}

const json::array& list(const json::value& o, std::string_view key) {
  static const json::array empty;
  const json::object* obj = o.if_object();
  const json::value* v = obj != nullptr ? obj->if_contains(key) : nullptr;
  return v != nullptr && v->is_array() ? v->as_array() : empty;
}

void print_table(const std::vector<std::string>& headers,
                 const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(headers.size());
  for (std::size_t i = 0; i < headers.size(); ++i) width[i] = headers[i].size();
  for (const auto& r : rows) {
    for (std::size_t i = 0; i < r.size() && i < width.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      out += cells[i];
      if (i + 1 < cells.size()) out += std::string(width[i] - cells[i].size() + 2, ' ');
    }
    std::printf("%s\n", out.c_str());
  };
  line(headers);
  for (const auto& r : rows) line(r);
}

int print_json(const json::value& v) {
  std::printf("%s\n", json::serialize(v).c_str());
  return 0;
}

// submitted_by_status as "N ok, M refused".
std::string message_counts(const json::value& client) {
  const json::object* o = client.if_object();
  const json::value* m = o != nullptr ? o->if_contains("messages") : nullptr;
  const json::object* mo = m != nullptr ? m->if_object() : nullptr;
  if (mo == nullptr) return "-";
  uint64_t ok = 0;
  uint64_t failed = 0;
  if (const auto* by = mo->if_contains("submitted_by_status"); by && by->is_object()) {
    for (const auto& [status, n] : by->as_object()) {
      // The parser gives int64 for every number that fits one.
      const uint64_t count = n.is_uint64()  ? n.as_uint64()
                             : n.is_int64() ? static_cast<uint64_t>(std::max<int64_t>(0, n.as_int64()))
                                            : 0;
      (status == "ESME_ROK" ? ok : failed) += count;
    }
  }
  return std::to_string(ok) + " ok, " + std::to_string(failed) + " refused";
}

int run_status(const Target& t) {
  auto v = call(t, "GET", "/api/status");
  if (auto* code = std::get_if<int>(&v)) return *code;
  const json::value& s = std::get<json::value>(v);
  if (args().json) return print_json(s);
  const json::value empty;
  const json::object* obj = s.if_object();
  const json::value& counts = obj && obj->if_contains("counts") ? obj->at("counts") : empty;
  const json::value& cfg = obj && obj->if_contains("config") ? obj->at("config") : empty;
  std::printf("smppd %s at %s: running for %s s (since %s)\n", field(s, "version").c_str(),
              t.url.c_str(), field(s, "uptime_seconds").c_str(), field(s, "started_at").c_str());
  std::printf("config      %s (sha256 %s)\n", field(cfg, "file").c_str(),
              field(cfg, "sha256").substr(0, 12).c_str());
  std::printf("sessions    %s bound of %s open; %s of %s clients bound\n",
              field(counts, "sessions_bound").c_str(), field(counts, "sessions").c_str(),
              field(counts, "clients_bound").c_str(), field(counts, "clients_configured").c_str());
  std::printf("upstreams   %s healthy of %s\n", field(counts, "upstreams_healthy").c_str(),
              field(counts, "upstreams").c_str());
  std::printf("messages    %s accepted, %s refused; %s receipts waiting for their message\n",
              field(counts, "messages_accepted").c_str(), field(counts, "messages_refused").c_str(),
              field(counts, "receipts_held").c_str());
  std::printf("storage     %s\n", field(s, "storage") == "yes" ? "on (store and forward)" : "off");
  std::vector<std::vector<std::string>> rows;
  for (const auto& l : list(s, "listeners")) {
    rows.push_back({field(l, "name"), field(l, "type"), field(l, "address"), field(l, "tls")});
  }
  std::printf("\n");
  print_table({"LISTENER", "TYPE", "ADDRESS", "TLS"}, rows);
  if (obj != nullptr && obj->if_contains("cluster")) {
    const json::value& c = obj->at("cluster");
    const json::value& redis = c.is_object() && c.as_object().if_contains("redis") ? c.at("redis") : empty;
    std::printf("\ncluster     node %s; Redis %s %s%s%s\n", field(c, "node_id").c_str(),
                field(redis, "url").c_str(), field(redis, "up") == "yes" ? "up" : "DOWN",
                field(redis, "error").empty() ? "" : ": ", field(redis, "error").c_str());
    std::vector<std::vector<std::string>> nodes;
    const std::string mine = field(cfg, "sha256");
    for (const auto& n : list(c, "nodes")) {
      std::string state = field(n, "alive") == "yes" ? "alive" : "gone";
      if (field(n, "self") == "yes") state += " (this node)";
      std::string config = field(n, "config_sha256").substr(0, 12);
      if (field(n, "alive") == "yes" && field(n, "self") != "yes" && field(n, "config_sha256") != mine) {
        config += " DIFFERS";
      }
      uint64_t sessions = 0;
      if (const json::object* o = n.if_object(); o != nullptr && o->if_contains("sessions") &&
                                                 o->at("sessions").is_object()) {
        for (const auto& [client, count] : o->at("sessions").as_object()) {
          if (count.is_int64()) sessions += static_cast<uint64_t>(count.as_int64());
        }
      }
      nodes.push_back({field(n, "id"), state, field(n, "address"), std::to_string(sessions),
                       field(n, "version"), config});
    }
    print_table({"NODE", "STATE", "ADDRESS", "SESSIONS", "VERSION", "CONFIG"}, nodes);
    for (const auto& m : list(c, "missing")) {
      std::printf("missing     %s (expected by discovery, no live node)\n", text(&m).c_str());
    }
    for (const auto& d : list(c, "duplicate_node_ids")) {
      std::printf("duplicate   node_id %s is used by another process too\n", text(&d).c_str());
    }
  }
  return 0;
}

int run_client_list(const Target& t) {
  auto v = call(t, "GET", "/api/clients");
  if (auto* code = std::get_if<int>(&v)) return *code;
  const json::value& s = std::get<json::value>(v);
  if (args().json) return print_json(s);
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : list(s, "clients")) {
    std::string binds;
    for (const auto& session : list(c, "sessions")) {
      if (!binds.empty()) binds += ", ";
      binds += field(session, "bind") + " " + field(session, "address");
    }
    rows.push_back({field(c, "system_id"), field(c, "bound"), message_counts(c),
                    field(c, "waiting_deliveries"), binds.empty() ? "-" : binds});
  }
  print_table({"CLIENT", "SESSIONS", "MESSAGES", "WAITING", "BINDS"}, rows);
  return 0;
}

int run_client_disconnect(const Target& t) {
  auto v = call(t, "DELETE", "/api/clients/" + segment(args().id) + "/connections");
  if (auto* code = std::get_if<int>(&v)) return *code;
  const json::value& s = std::get<json::value>(v);
  if (args().json) return print_json(s);
  std::printf("client %s: %s session(s) unbinding (messages in flight finish first)\n",
              args().id.c_str(), field(s, "disconnected").c_str());
  return 0;
}

int run_upstream_list(const Target& t) {
  auto v = call(t, "GET", "/api/upstreams");
  if (auto* code = std::get_if<int>(&v)) return *code;
  const json::value& s = std::get<json::value>(v);
  if (args().json) return print_json(s);
  std::vector<std::vector<std::string>> rows;
  for (const auto& u : list(s, "upstreams")) {
    std::size_t bound = 0;
    const auto& conns = list(u, "connections");
    for (const auto& c : conns) bound += field(c, "state") == "bound" ? 1 : 0;
    std::string state = field(u, "suspended") == "yes" ? "suspended"
                        : field(u, "healthy") == "yes" ? "healthy"
                                                       : "down";
    rows.push_back({field(u, "name"), state, std::to_string(bound) + "/" + std::to_string(conns.size()),
                    field(u, "in_flight"), field(u, "queued"), std::to_string(list(u, "hosts").size())});
  }
  print_table({"UPSTREAM", "STATE", "BOUND", "IN FLIGHT", "QUEUED", "HOSTS"}, rows);
  return 0;
}

int run_upstream_switch(const Target& t, bool suspend) {
  auto v = call(t, "POST", "/api/upstreams/" + segment(args().id) + (suspend ? "/suspend" : "/resume"));
  if (auto* code = std::get_if<int>(&v)) return *code;
  const json::value& s = std::get<json::value>(v);
  if (args().json) return print_json(s);
  std::printf("upstream %s: %s\n", args().id.c_str(),
              suspend ? "suspended (it takes no new messages)" : "resumed");
  return 0;
}

// The routes of the running configuration and how often each matched since start.
int run_route_stats(const Target& t) {
  auto v = call(t, "GET", "/api/routes");
  if (auto* code = std::get_if<int>(&v)) return *code;
  const json::value& s = std::get<json::value>(v);
  if (args().json) return print_json(s);
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : list(s, "routes")) {
    rows.push_back({field(r, "position"), field(r, "name"), field(r, "upstream"),
                    field(r, "failover").empty() ? "-" : field(r, "failover"), field(r, "matched")});
  }
  print_table({"#", "ROUTE", "UPSTREAM", "FAILOVER", "MATCHED"}, rows);
  return 0;
}

int run_stats(const Target& t) {
  const ApiArgs& a = args();
  if (a.routes) return run_route_stats(t);
  json::object out;
  const bool clients = !a.client.empty() || a.upstream.empty();
  const bool upstreams = !a.upstream.empty() || a.client.empty();
  std::vector<std::vector<std::string>> client_rows;
  std::vector<std::vector<std::string>> upstream_rows;
  if (clients) {
    auto v = call(t, "GET", a.client.empty() ? "/api/clients" : "/api/clients/" + segment(a.client));
    if (auto* code = std::get_if<int>(&v)) return *code;
    json::value& s = std::get<json::value>(v);
    json::array all = a.client.empty() ? list(s, "clients") : json::array{s};
    for (const auto& c : all) {
      const json::value empty;
      const json::object* o = c.if_object();
      const json::value& m = o && o->if_contains("messages") ? o->at("messages") : empty;
      client_rows.push_back({field(c, "system_id"), message_counts(c),
                             field(m, "receipts_delivered"), field(m, "mo_delivered"),
                             field(c, "waiting_deliveries")});
    }
    out["clients"] = std::move(all);
  }
  if (upstreams) {
    auto v = call(t, "GET", a.upstream.empty() ? "/api/upstreams" : "/api/upstreams/" + segment(a.upstream));
    if (auto* code = std::get_if<int>(&v)) return *code;
    json::value& s = std::get<json::value>(v);
    json::array all = a.upstream.empty() ? list(s, "upstreams") : json::array{s};
    for (const auto& u : all) {
      upstream_rows.push_back({field(u, "name"), field(u, "healthy"), field(u, "in_flight"),
                               field(u, "queued"), field(u, "window_size"), field(u, "rate_limit")});
    }
    out["upstreams"] = std::move(all);
  }
  if (a.json) return print_json(out);
  if (clients) {
    print_table({"CLIENT", "SUBMITTED", "RECEIPTS", "MO", "WAITING"}, client_rows);
  }
  if (clients && upstreams) std::printf("\n");
  if (upstreams) {
    print_table({"UPSTREAM", "HEALTHY", "IN FLIGHT", "QUEUED", "WINDOW", "RATE"}, upstream_rows);
  }
  return 0;
}

}  // namespace

CLI::App* subcommand_of(CLI::App& app, const std::string& name, const std::string& description) {
  for (CLI::App* c : app.get_subcommands({})) {
    if (c->get_name() == name) return c;
  }
  return app.add_subcommand(name, description);
}

void add_api_commands(CLI::App& app, std::string& config_path) {
  ApiArgs& a = args();
  a.config_path = &config_path;
  a.status = app.add_subcommand("status", "Show the running daemon's status (management API)");
  common_options(a.status, a);
  CLI::App* client = subcommand_of(app, "client", "Clients of the running daemon");
  a.client_list = client->add_subcommand("list", "Configured clients, their sessions and messages");
  common_options(a.client_list, a);
  a.client_disconnect =
      client->add_subcommand("disconnect", "Unbind a client's sessions (in-flight messages finish)");
  a.client_disconnect->add_option("id", a.id, "system_id")->required();
  common_options(a.client_disconnect, a);
  CLI::App* upstream = subcommand_of(app, "upstream", "Upstreams (SMSCs)");
  a.upstream_list = upstream->add_subcommand("list", "Upstreams of the running daemon");
  common_options(a.upstream_list, a);
  a.upstream_suspend =
      upstream->add_subcommand("suspend", "Stop sending to an upstream (its routes fail over)");
  a.upstream_suspend->add_option("name", a.id, "upstream name")->required();
  common_options(a.upstream_suspend, a);
  a.upstream_resume = upstream->add_subcommand("resume", "Send to a suspended upstream again");
  a.upstream_resume->add_option("name", a.id, "upstream name")->required();
  common_options(a.upstream_resume, a);
  a.stats = app.add_subcommand("stats", "Message counts of clients and upstreams");
  a.stats->add_option("--client", a.client, "Only this client");
  a.stats->add_option("--upstream", a.upstream, "Only this upstream");
  a.stats->add_flag("--routes", a.routes, "The routes in effect and how often each matched");
  common_options(a.stats, a);
}

std::optional<int> run_api_commands(const CLI::App&) {
  const ApiArgs& a = args();
  CLI::App* chosen = nullptr;
  for (CLI::App* c : {a.status, a.client_list, a.client_disconnect, a.upstream_list,
                      a.upstream_suspend, a.upstream_resume, a.stats}) {
    if (c != nullptr && c->parsed()) chosen = c;
  }
  if (chosen == nullptr) return std::nullopt;
  auto t = target();
  if (auto* why = std::get_if<std::string>(&t)) {
    std::fprintf(stderr, "%s\n", why->c_str());
    return 2;
  }
  const Target& target_ = std::get<Target>(t);
  if (chosen == a.status) return run_status(target_);
  if (chosen == a.client_list) return run_client_list(target_);
  if (chosen == a.client_disconnect) return run_client_disconnect(target_);
  if (chosen == a.upstream_list) return run_upstream_list(target_);
  if (chosen == a.upstream_suspend) return run_upstream_switch(target_, true);
  if (chosen == a.upstream_resume) return run_upstream_switch(target_, false);
  return run_stats(target_);
}

}  // namespace smppd::cli
