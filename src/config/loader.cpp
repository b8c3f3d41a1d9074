#include "config/loader.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <initializer_list>
#include <set>
#include <sstream>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "config/files.hpp"
#include "config/keys.hpp"
#include "config/message_rule.hpp"
#include "config/yaml_tree.hpp"
#include "core/string_map.hpp"
#include "core/timezone.hpp"

namespace smppd::config {

std::string ConfigError::to_string() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) +
         (warning ? ": warning: " : ": error: ") + message;
}

const UpstreamConfig* Config::find_upstream(std::string_view name) const {
  for (const auto& u : upstreams) {
    if (u.name == name) return &u;
  }
  return nullptr;
}

const ClientConfig* Config::find_client(std::string_view system_id) const {
  for (const auto& c : clients) {
    if (c.system_id == system_id) return &c;
  }
  return nullptr;
}

std::string_view to_string(ListenerType t) {
  switch (t) {
    case ListenerType::smpp:
      return "smpp";
    case ListenerType::http:
      return "http";
    case ListenerType::grpc:
      return "grpc";
  }
  return "?";
}

std::string_view to_string(UpstreamType t) {
  return t == UpstreamType::simulator ? "simulator" : "smpp";
}

namespace {

// Collects errors for one load.
struct Context {
  std::string file;
  const EnvLookup* env = nullptr;
  std::vector<ConfigError> errors;
  std::vector<ConfigError> warnings;  // keys accepted and ignored (keys.hpp)
  KeyAudit* audit = nullptr;
  std::map<std::string, std::string> timezones;  // checked zone names -> error ("" when valid)
  std::vector<NamedFile> files;                  // to check once the whole is read

  void error(const yaml::Mark& mark, std::string message) {
    int line = mark.is_null() ? 0 : mark.line + 1;
    int column = mark.is_null() ? 0 : mark.column + 1;
    errors.push_back({file, line, column, std::move(message)});
  }
  void error(const yaml::Node& node, std::string message) {
    error(node.Mark(), std::move(message));
  }
  void warning(const yaml::Node& node, std::string message) {
    const yaml::Mark mark = node.Mark();
    warnings.push_back({file, mark.line + 1, mark.column + 1, std::move(message), true});
  }
};

// Where a mapping sits in the key registry (keys.hpp): its node, or null when the registry does
// not know it; `ignored` inside a key that is not built (warned about at that key).
struct KeyScope {
  const KeyNode* node = nullptr;
  bool ignored = false;
};

// A YAML mapping whose keys are taken one by one; whatever is left untaken when it goes out of
// scope is an unknown key.
class Map {
 public:
  Map(Context& ctx, const yaml::Node& node, std::string what, KeyScope keys)
      : ctx_(ctx), node_(node), what_(std::move(what)), keys_(keys) {
    known_.reserve(16);
    if (node.IsMap()) {
      valid_ = true;
      report_duplicates();
    } else if (node.IsDefined() && !node.IsNull()) {
      ctx.error(node, what_ + " must be a mapping of keys to values");
    }
  }
  // The mapping at `key` of `parent`.
  Map(Map& parent, const std::string& key, std::string what)
      : Map(parent.ctx_, parent.get(key), std::move(what), parent.scope(key)) {}
  Map(const Map&) = delete;
  Map& operator=(const Map&) = delete;

  ~Map() {
    if (!valid_) return;
    for (std::size_t i = 0, n = node_.size(); i < n; ++i) {
      const std::string_view key = node_.key(i).Scalar();
      if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
      std::string message = "unknown key '" + std::string(key) + "' in " + what_;
      if (auto guess = closest_match(key, known_)) message += "; did you mean '" + *guess + "'?";
      ctx_.error(node_.key(i), message);
    }
  }

  // The value of `key`, or an undefined node when absent. Marks the key as known.
  yaml::Node get(const std::string& key) {
    const bool first = std::find(known_.begin(), known_.end(), key) == known_.end();
    if (first) known_.push_back(key);
    yaml::Node n = valid_ ? node_.find(key) : yaml::Node();
    if (first) classify(key, n);
    return n;
  }

  // The registry's place for the mapping (or list of mappings) at `key`.
  KeyScope scope(const std::string& key) const {
    if (keys_.ignored || keys_.node == nullptr) return keys_.ignored ? keys_ : KeyScope{};
    const KeyNode* child = keys_.node->child(key);
    return {child, child != nullptr && child->spec->use == KeyUse::not_built};
  }

  bool has(const std::string& key) {
    yaml::Node n = get(key);
    return n.IsDefined();
  }

  yaml::Node require(const std::string& key) {
    yaml::Node n = get(key);
    if (valid_ && !n.IsDefined())
      ctx_.error(node_, what_ + " is missing the required key '" + key + "'");
    return n;
  }

  // Names the mapping in later messages, once its name is known ("upstream 'carrier-a'").
  void rename(std::string what) { what_ = std::move(what); }

  Context& ctx() { return ctx_; }
  const yaml::Node& node() const { return node_; }
  const std::string& what() const { return what_; }
  bool valid() const { return valid_; }

 private:
  // The parser keeps both entries of a repeated key; the second would silently be ignored.
  void report_duplicates() {
    const std::size_t n = node_.size();
    std::vector<std::pair<std::string_view, std::size_t>> keys;
    keys.reserve(n);
    for (std::size_t i = 0; i < n; ++i) keys.emplace_back(node_.key(i).Scalar(), i);
    std::sort(keys.begin(), keys.end());  // by key, then by position
    for (std::size_t i = 1; i < n; ++i) {
      if (keys[i].first != keys[i - 1].first) continue;
      std::size_t first = i - 1;
      while (first > 0 && keys[first - 1].first == keys[i].first) --first;
      const yaml::Node repeated = node_.key(keys[i].second);
      ctx_.error(repeated, "duplicate key '" + std::string(keys[i].first) + "' in " + what_ +
                               " (first at line " +
                               std::to_string(node_.key(keys[first].second).Mark().line + 1) + ")");
    }
  }

  // Looks a key up in the registry the first time it is taken: a key written in the file whose
  // feature is not built gets its warning; a key the registry does not know is noted for
  // tests/config/keys_test.cpp.
  void classify(const std::string& key, const yaml::Node& value) {
    if (keys_.ignored) return;
    const KeyNode* k = keys_.node ? keys_.node->child(key) : nullptr;
    if (k == nullptr) {
      if (ctx_.audit) {
        std::string parent = keys_.node && keys_.node->spec ? std::string(keys_.node->spec->path)
                                                            : std::string(keys_.node ? "" : "?");
        ctx_.audit->unclassified.insert(parent.empty() ? key : parent + "." + key);
      }
      return;
    }
    if (ctx_.audit) ctx_.audit->taken.insert(std::string(k->spec->path));
    if (k->spec->use != KeyUse::not_built || !value.IsDefined()) return;
    std::string message = what_ == "the configuration" ? key : what_ + ": " + key;
    message += ": not built yet: accepted and ignored";
    if (!k->spec->detail.empty()) message += " (" + std::string(k->spec->detail) + ")";
    for (std::size_t i = 0, n = node_.size(); i < n; ++i) {
      if (node_.key(i).Scalar() != key) continue;
      ctx_.warning(node_.key(i), std::move(message));
      break;
    }
  }

  Context& ctx_;
  yaml::Node node_;
  std::string what_;
  KeyScope keys_;
  bool valid_ = false;
  std::vector<std::string> known_;
};

// ---- scalars ----

// The scalar's text, ${VAR}-expanded unless `raw`. Null reads as "".
std::optional<std::string> scalar(Context& ctx, const yaml::Node& n, const std::string& what,
                                  bool raw = false) {
  if (n.IsNull()) return std::string();
  if (!n.IsScalar()) {
    ctx.error(n, what + " must be a single value, not a " + (n.IsMap() ? "mapping" : "list"));
    return std::nullopt;
  }
  if (raw) return std::string(n.Scalar());
  auto expanded = expand_env(n.Scalar(), *ctx.env);
  if (auto* e = std::get_if<Invalid>(&expanded)) {
    ctx.error(n, what + ": " + e->reason);
    return std::nullopt;
  }
  return std::get<0>(expanded);
}

std::string key_what(Map& m, const std::string& key) {
  return "'" + key + "' in " + m.what();
}

// Records a file the configuration names at `key` (or at the section, when the key is absent and
// the path is a default), to check after the load. Returns its index.
int name_file(Map& m, const std::string& key, FileUse use, const std::string& path,
              int certificate = -1, const yaml::Node& section = {}) {
  yaml::Node where = m.get(key);
  if (!where.IsDefined()) where = m.node().IsDefined() ? m.node() : section;
  const yaml::Mark mark = where.Mark();
  m.ctx().files.push_back(
      {use, path, m.what() + ": " + key, mark.line + 1, mark.column + 1, certificate});
  return static_cast<int>(m.ctx().files.size() - 1);
}

template <class T, class F>
void read_with(Map& m, const std::string& key, T& out, F parse) {
  yaml::Node n = m.get(key);
  if (!n.IsDefined()) return;
  auto text = scalar(m.ctx(), n, key_what(m, key));
  if (!text) return;
  auto v = parse(*text);
  if (v.index() == 1) {
    m.ctx().error(n, key_what(m, key) + ": " + std::get<1>(v).reason);
    return;
  }
  out = static_cast<T>(std::get<0>(v));
}

void read(Map& m, const std::string& key, std::string& out, bool raw = false) {
  yaml::Node n = m.get(key);
  if (!n.IsDefined()) return;
  if (auto t = scalar(m.ctx(), n, key_what(m, key), raw)) out = *t;
}

void read(Map& m, const std::string& key, std::optional<std::string>& out) {
  yaml::Node n = m.get(key);
  if (!n.IsDefined()) return;
  if (auto t = scalar(m.ctx(), n, key_what(m, key))) out = *t;
}

// An address pattern (values.hpp), kept as written.
void read_pattern(Map& m, const std::string& key, std::optional<std::string>& out) {
  yaml::Node n = m.get(key);
  if (!n.IsDefined()) return;
  auto t = scalar(m.ctx(), n, key_what(m, key));
  if (!t) return;
  auto pattern = parse_address_pattern(*t);
  if (auto* e = std::get_if<Invalid>(&pattern)) {
    m.ctx().error(n, key_what(m, key) + ": " + e->reason);
    return;
  }
  out = *t;
}

Parsed<bool> parse_bool(std::string_view t) {
  if (t == "true" || t == "yes" || t == "on" || t == "True" || t == "TRUE") return true;
  if (t == "false" || t == "no" || t == "off" || t == "False" || t == "FALSE") return false;
  return Invalid{"invalid boolean '" + std::string(t) + "' (expected true or false)"};
}

void read(Map& m, const std::string& key, bool& out) {
  read_with(m, key, out, parse_bool);
}

template <class I>
void read_int(Map& m, const std::string& key, I& out, int64_t min, int64_t max) {
  read_with(m, key, out, [&](std::string_view t) { return parse_integer(t, min, max); });
}

void read_u32(Map& m, const std::string& key, uint32_t& out, int64_t min = 0) {
  read_int(m, key, out, min, UINT32_MAX);
}
void read_u8(Map& m, const std::string& key, uint8_t& out) {
  read_int(m, key, out, 0, 255);
}

Parsed<double> parse_number(std::string_view t, double min, double max) {
  double v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc{} || p != t.data() + t.size()) {
    return Invalid{"invalid number '" + std::string(t) + "'"};
  }
  if (v < min || v > max) {
    std::ostringstream s;
    s << "number " << t << " is out of range [" << min << ", " << max << "]";
    return Invalid{s.str()};
  }
  return v;
}

void read_number(Map& m, const std::string& key, double& out, double min = 0, double max = 1e12) {
  read_with(m, key, out, [&](std::string_view t) { return parse_number(t, min, max); });
}

void read(Map& m, const std::string& key, Duration& out) {
  read_with(m, key, out, parse_duration);
}
void read_size(Map& m, const std::string& key, uint64_t& out) {
  read_with(m, key, out, parse_size);
}

Parsed<smpp::Version> parse_smpp_version(std::string_view t) {
  if (auto v = smpp::parse_version(t)) return *v;
  return Invalid{"invalid SMPP version '" + std::string(t) + "' (expected 3.3, 3.4 or 5.0)"};
}

void read(Map& m, const std::string& key, smpp::Version& out) {
  read_with(m, key, out, parse_smpp_version);
}

void read_address(Map& m, const std::string& key, HostPort& out, bool allow_port_zero) {
  read_with(m, key, out, [&](std::string_view t) { return parse_host_port(t, allow_port_zero); });
}

template <class E>
using Names = std::initializer_list<std::pair<std::string_view, E>>;

template <class E>
Parsed<E> parse_enum(std::string_view t, Names<E> names) {
  std::string allowed;
  for (const auto& [name, value] : names) {
    if (name == t) return value;
    allowed += (allowed.empty() ? "" : ", ") + std::string(name);
  }
  std::vector<std::string> candidates;
  for (const auto& entry : names) candidates.emplace_back(entry.first);
  std::string guess;
  if (auto g = closest_match(t, candidates)) guess = "; did you mean '" + *g + "'?";
  return Invalid{"invalid value '" + std::string(t) + "' (expected one of: " + allowed + ")" +
                 guess};
}

template <class E>
void read_enum(Map& m, const std::string& key, E& out, Names<E> names) {
  read_with(m, key, out, [&](std::string_view t) { return parse_enum(t, names); });
}

// A list of scalars, each parsed by `parse`.
template <class T, class F>
void read_list(Map& m, const std::string& key, std::vector<T>& out, F parse) {
  yaml::Node n = m.get(key);
  if (!n.IsDefined() || n.IsNull()) return;
  if (!n.IsSequence()) {
    m.ctx().error(n, key_what(m, key) + " must be a list");
    return;
  }
  out.clear();
  for (const yaml::Node item : n.items()) {
    auto text = scalar(m.ctx(), item, "an item of " + key_what(m, key));
    if (!text) continue;
    auto v = parse(*text);
    if (v.index() == 1) {
      m.ctx().error(item, key_what(m, key) + ": " + std::get<1>(v).reason);
      continue;
    }
    out.push_back(static_cast<T>(std::get<0>(v)));
  }
}

void read_strings(Map& m, const std::string& key, std::vector<std::string>& out) {
  read_list(m, key, out, [](std::string_view t) -> Parsed<std::string> { return std::string(t); });
}

void read_cidrs(Map& m, const std::string& key, std::vector<Cidr>& out) {
  read_list(m, key, out, [](std::string_view t) { return Cidr::parse(t); });
}

// A mapping of names to scalars (tags, cost maps, transform fields).
template <class T, class F>
void read_string_map(Map& m, const std::string& key, std::map<std::string, T>& out, F parse,
                     bool raw = false) {
  yaml::Node n = m.get(key);
  if (!n.IsDefined() || n.IsNull()) return;
  if (!n.IsMap()) {
    m.ctx().error(n, key_what(m, key) + " must be a mapping");
    return;
  }
  for (std::size_t i = 0; i < n.size(); ++i) {
    std::string name(n.key(i).Scalar());
    auto text = scalar(m.ctx(), n.value(i), "'" + name + "' in " + key_what(m, key), raw);
    if (!text) continue;
    auto v = parse(*text);
    if (v.index() == 1) {
      m.ctx().error(n.value(i),
                    "'" + name + "' in " + key_what(m, key) + ": " + std::get<1>(v).reason);
      continue;
    }
    out[name] = std::get<0>(v);
  }
}

Parsed<std::string> as_is(std::string_view t) {
  return std::string(t);
}

// Sections with `enabled`: present means enabled unless it says otherwise.
void read_enabled(Map& m, bool& enabled) {
  enabled = m.valid();
  read(m, "enabled", enabled);
}

// Iterates a list of mappings, calling f(node, index).
template <class F>
void for_each_item(Context& ctx, const yaml::Node& n, const std::string& what, F f) {
  if (!n.IsDefined() || n.IsNull()) return;
  if (!n.IsSequence()) {
    ctx.error(n, "'" + what + "' must be a list");
    return;
  }
  std::size_t index = 0;
  for (const yaml::Node item : n.items()) f(item, index++);
}

// ---- sections ----

const Names<BindType> kBindTypes = {{"transmitter", BindType::transmitter},
                                    {"receiver", BindType::receiver},
                                    {"transceiver", BindType::transceiver}};

const Names<HttpCompat> kCompat = {{"kannel", HttpCompat::kannel},
                                   {"jasmin", HttpCompat::jasmin}};

void read_tls(Map& parent, TlsConfig& tls, bool listener) {
  Map m(parent, "tls", "tls of " + parent.what());
  read_enabled(m, tls.enabled);
  read(m, "cert", tls.cert);
  read(m, "key", tls.key);
  read(m, "ca", tls.ca);
  const Names<std::string> versions = {
      {"1.0", "1.0"}, {"1.1", "1.1"}, {"1.2", "1.2"}, {"1.3", "1.3"}};
  read_enum(m, "min_version", tls.min_version, versions);
  read_enum(m, "max_version", tls.max_version, versions);
  read_strings(m, "cipher_suites", tls.cipher_suites);
  if (listener) {
    read_enum(m, "client_auth", tls.client_auth,
              Names<ClientAuth>{{"none", ClientAuth::none},
                                {"request", ClientAuth::request},
                                {"require", ClientAuth::require}});
    if (tls.enabled && (tls.cert.empty() || tls.key.empty())) {
      parent.ctx().error(m.node(), "a TLS listener needs both 'cert' and 'key'");
    }
    if (tls.client_auth != ClientAuth::none && tls.ca.empty()) {
      parent.ctx().error(
          m.node(),
          "client_auth '" +
              std::string(tls.client_auth == ClientAuth::require ? "require" : "request") +
              "' needs 'ca' (the CA that signs client certificates)");
    }
  } else {
    read(m, "skip_verify", tls.skip_verify);
    read(m, "server_name", tls.server_name);
    if (tls.cert.empty() != tls.key.empty()) {
      parent.ctx().error(m.node(), "a client certificate needs both 'cert' and 'key'");
    }
  }
  if (tls.enabled) {
    const int cert = tls.cert.empty() ? -1 : name_file(m, "cert", FileUse::certificate, tls.cert);
    if (!tls.key.empty()) name_file(m, "key", FileUse::private_key, tls.key, cert);
    if (!tls.ca.empty()) name_file(m, "ca", FileUse::ca, tls.ca);
  }
  if (tls.min_version > tls.max_version) {
    parent.ctx().error(
        m.node(), "min_version " + tls.min_version + " is above max_version " + tls.max_version);
  }
}

struct NamedNode {
  std::string name;
  yaml::Node where;
};

// References checked once every name is known. Each name is kept once, with every place that
// uses it: 100,000 routes naming four upstreams keep four names, not 100,000 copies.
class NameUses {
 public:
  void add(std::string_view name, const yaml::Node& where) {
    auto it = uses_.find(name);
    if (it == uses_.end()) it = uses_.emplace(std::string(name), std::vector<yaml::Node>()).first;
    it->second.push_back(where);
  }
  template <class F>
  void for_each(F f) const {
    for (const auto& [name, nodes] : uses_) f(name, nodes);
  }

 private:
  StringMap<std::vector<yaml::Node>> uses_;
};

struct References {
  NameUses upstreams;
  NameUses clients;
  // Routes by mcc, mnc or is_ported, at their first such key: they need mnp.enabled, which is
  // read after the routes.
  struct MnpRoute {
    std::string route;
    std::string key;
    yaml::Node where;
  };
  std::vector<MnpRoute> mnp_routes;
};

void check_unique(Context& ctx, const std::vector<NamedNode>& items, const std::string& what) {
  std::unordered_map<std::string_view, const yaml::Node*> seen;
  seen.reserve(items.size());
  for (const auto& item : items) {
    auto [it, inserted] = seen.emplace(item.name, &item.where);
    if (!inserted) {
      const auto mark = it->second->Mark();
      ctx.error(item.where, "duplicate " + what + " '" + item.name + "' (first defined at line " +
                                std::to_string(mark.line + 1) + ")");
    }
  }
}

ListenerConfig read_listener(Context& ctx, const yaml::Node& node, std::size_t index, KeyScope keys,
                             std::vector<NamedNode>& names) {
  ListenerConfig l;
  Map m(ctx, node, "listener #" + std::to_string(index + 1), keys);
  read_enum(m, "type", l.type,
            Names<ListenerType>{{"smpp", ListenerType::smpp},
                                {"http", ListenerType::http},
                                {"grpc", ListenerType::grpc}});
  m.require("type");
  l.name = std::string(to_string(l.type)) + "-" + std::to_string(index);
  read(m, "name", l.name);
  names.push_back({l.name, m.has("name") ? m.get("name") : node});
  if (m.has("name")) m.rename("listener '" + l.name + "'");
  m.require("address");
  read_address(m, "address", l.address, true);
  read_tls(m, l.tls, true);
  read_u32(m, "max_connections", l.max_connections, 1);
  read_u32(m, "max_connections_per_ip", l.max_connections_per_ip);
  read_u32(m, "max_connections_per_client", l.max_connections_per_client);
  read_u32(m, "max_unbound_connections", l.max_unbound_connections);
  read_u32(m, "max_unbound_connections_per_ip", l.max_unbound_connections_per_ip);
  read_enum(m, "bind_failure_status", l.bind_failure_status,
            Names<BindFailureStatus>{{"specific", BindFailureStatus::specific},
                                     {"uniform", BindFailureStatus::uniform}});
  {
    Map t(m, "timeouts", "timeouts of " + m.what());
    read(t, "read", l.timeouts.read);
    read(t, "write", l.timeouts.write);
    read(t, "idle", l.timeouts.idle);
    read(t, "bind", l.timeouts.bind);
    read(t, "response", l.timeouts.response);
  }
  auto only_for = [&](const std::string& key, ListenerType type) {
    yaml::Node n = m.get(key);
    if (n.IsDefined() && l.type != type) {
      ctx.error(n, "'" + key + "' applies only to " + std::string(to_string(type)) +
                       " listeners, and " + m.what() + " is " + std::string(to_string(l.type)));
    }
  };
  only_for("smpp", ListenerType::smpp);
  only_for("http", ListenerType::http);
  only_for("cors", ListenerType::http);
  only_for("compat", ListenerType::http);
  read_list(m, "compat", l.compat, [](std::string_view t) { return parse_enum(t, kCompat); });
  only_for("grpc", ListenerType::grpc);
  {
    Map s(m, "smpp", "smpp settings of " + m.what());
    read_list(s, "versions", l.smpp.versions, parse_smpp_version);
    if (s.has("versions") && l.smpp.versions.empty())
      ctx.error(s.get("versions"), "'versions' must not be empty");
    read(s, "auto_negotiate", l.smpp.auto_negotiate);
    read(s, "enquire_link_interval", l.smpp.enquire_link_interval);
    read(s, "enquire_link_timeout", l.smpp.enquire_link_timeout);
    read_u32(s, "window_size", l.smpp.window_size, 1);
  }
  {
    Map r(m, "rate_limit", "rate_limit of " + m.what());
    read_number(r, "connections_per_second", l.rate_limit.connections_per_second);
    read_number(r, "binds_per_second", l.rate_limit.binds_per_second);
    read_number(r, "requests_per_second", l.rate_limit.requests_per_second);
    read_u32(r, "burst", l.rate_limit.burst);
  }
  read_cidrs(m, "allowed_ips", l.allowed_ips);
  read_cidrs(m, "blocked_ips", l.blocked_ips);
  {
    Map h(m, "http", "http settings of " + m.what());
    read(h, "read_timeout", l.http.read_timeout);
    read(h, "write_timeout", l.http.write_timeout);
    read(h, "idle_timeout", l.http.idle_timeout);
    read_size(h, "max_header_bytes", l.http.max_header_bytes);
    read_size(h, "max_body_bytes", l.http.max_body_bytes);
  }
  {
    Map c(m, "cors", "cors of " + m.what());
    read_enabled(c, l.cors.enabled);
    read_strings(c, "allowed_origins", l.cors.allowed_origins);
    read_strings(c, "allowed_methods", l.cors.allowed_methods);
    read_strings(c, "allowed_headers", l.cors.allowed_headers);
  }
  {
    Map g(m, "grpc", "grpc settings of " + m.what());
    read_size(g, "max_recv_msg_size", l.grpc.max_recv_msg_size);
    read_size(g, "max_send_msg_size", l.grpc.max_send_msg_size);
    Map k(g, "keepalive", "keepalive of " + g.what());
    read(k, "time", l.grpc.keepalive_time);
    read(k, "timeout", l.grpc.keepalive_timeout);
  }
  return l;
}

void read_simulator(Map& parent, SimulatorConfig& sim) {
  Map m(parent, "simulator", "simulator of " + parent.what());
  read(m, "receipt_delay", sim.receipt_delay);
  yaml::Node outcomes = m.get("outcomes");
  if (outcomes.IsDefined()) {
    Map o(m, "outcomes", "outcomes of " + m.what());
    sim.delivered = 0;
    read_u32(o, "delivered", sim.delivered);
    read_u32(o, "undeliverable", sim.undeliverable);
    read_u32(o, "expired", sim.expired);
    uint64_t sum = uint64_t{sim.delivered} + sim.undeliverable + sim.expired;
    if (o.valid() && sum != 100) {
      parent.ctx().error(
          outcomes, "simulator outcomes must add up to 100 (percent), not " + std::to_string(sum));
    }
  }
  read_number(m, "throttle_rate", sim.throttle_rate, 0, 100);
  read_number(m, "error_rate", sim.error_rate, 0, 100);
  read(m, "mo_interval", sim.mo_interval);
}

// ---- an upstream, a reader per sub-section ----

void read_hosts(Map& m, const yaml::Node& node, UpstreamConfig& u) {
  Context& ctx = m.ctx();
  yaml::Node hosts = m.get("hosts");
  for_each_item(ctx, hosts, "hosts", [&](const yaml::Node& item, std::size_t i) {
    HostConfig h;
    Map hm(ctx, item, "host #" + std::to_string(i + 1) + " of " + m.what(), m.scope("hosts"));
    hm.require("address");
    read_address(hm, "address", h.address, false);
    read_u32(hm, "weight", h.weight);
    read_u32(hm, "priority", h.priority);
    read_string_map(hm, "cost", h.cost, [](std::string_view t) { return parse_number(t, 0, 1e9); });
    u.hosts.push_back(std::move(h));
  });
  if (u.type == UpstreamType::smpp && u.hosts.empty() && m.valid()) {
    ctx.error(hosts.IsDefined() ? hosts : node,
              m.what() + " needs at least one host in 'hosts' (or type: simulator)");
  }
  if (u.type == UpstreamType::simulator && hosts.IsDefined()) {
    ctx.error(hosts, m.what() + " is a simulator and takes no 'hosts'");
  }
}

void read_bind(Map& m, const yaml::Node& node, UpstreamConfig& u) {
  Context& ctx = m.ctx();
  const std::string& what = m.what();
  Map b(m, "bind", "bind of " + what);
  read(b, "system_id", u.bind.system_id);
  read(b, "password", u.bind.password);
  read(b, "system_type", u.bind.system_type);
  read_enum(b, "type", u.bind.type, kBindTypes);
  read(b, "version", u.bind.version);
  u.bind.version_given = b.has("version");
  if (b.has("interface_version")) {
    uint8_t v = 0;
    read_u8(b, "interface_version", v);
    u.bind.interface_version = v;
  }
  read_u8(b, "addr_ton", u.bind.addr_ton);
  read_u8(b, "addr_npi", u.bind.addr_npi);
  read(b, "address_range", u.bind.address_range);
  // The bind PDU's C-Octet String limits (SMPP 3.4 §4.1), without the NUL.
  for (auto [key, value, max] : {std::tuple{"system_id", &u.bind.system_id, 15u},
                                 std::tuple{"password", &u.bind.password, 8u},
                                 std::tuple{"system_type", &u.bind.system_type, 12u},
                                 std::tuple{"address_range", &u.bind.address_range, 40u}}) {
    if (value->size() > max) {
      ctx.error(b.get(key), "bind " + std::string(key) + " of " + what + " is longer than SMPP's " +
                                std::to_string(max) + " characters");
    }
  }
  if (u.type == UpstreamType::smpp && m.valid() && u.bind.system_id.empty()) {
    ctx.error(b.valid() ? b.node() : node, what + " needs bind.system_id");
  }
}

void read_pool(Map& m, PoolConfig& pool) {
  Map p(m, "pool", "pool of " + m.what());
  read_u32(p, "min_connections", pool.min_connections);
  read_u32(p, "max_connections", pool.max_connections, 1);
  read(p, "idle_timeout", pool.idle_timeout);
  read(p, "max_lifetime", pool.max_lifetime);
  if (pool.min_connections > pool.max_connections) {
    m.ctx().error(p.node(), "min_connections (" + std::to_string(pool.min_connections) +
                                ") is above max_connections (" +
                                std::to_string(pool.max_connections) + ")");
  }
}

// Returns the node of `enquire_link` (undefined when absent): see read_enquire_link.
yaml::Node read_upstream_timeouts(Map& m, UpstreamTimeouts& timeouts) {
  Map t(m, "timeouts", "timeouts of " + m.what());
  read(t, "connect", timeouts.connect);
  read(t, "bind", timeouts.bind);
  read(t, "submit", timeouts.submit);
  read(t, "response", timeouts.response);
  read(t, "enquire_link", timeouts.enquire_link);
  read(t, "read", timeouts.read);
  read(t, "write", timeouts.write);
  return t.get("enquire_link");
}

void read_health(Map& m, const UpstreamBind& bind, HealthConfig& health) {
  Context& ctx = m.ctx();
  Map h(m, "health", "health of " + m.what());
  read(h, "enabled", health.enabled);
  read_enum(h, "type", health.type,
            Names<HealthCheckType>{{"tcp", HealthCheckType::tcp},
                                   {"enquire_link", HealthCheckType::enquire_link},
                                   {"submit", HealthCheckType::submit}});
  read(h, "interval", health.interval);
  read(h, "timeout", health.timeout);
  read_u32(h, "threshold", health.threshold, 1);
  read_u32(h, "recovery_threshold", health.recovery_threshold, 1);
  if (health.enabled && (health.interval.count() == 0 || health.timeout.count() == 0)) {
    ctx.error(h.node(), "health checks need an interval and a timeout above 0");
  }
  if (health.enabled && health.type == HealthCheckType::submit && bind.type == BindType::receiver) {
    ctx.error(h.node(),
              "health checks of type submit need a transmitter or transceiver bind (this "
              "upstream binds as receiver)");
  }
}

void read_load_balancing(Map& m, LoadBalancing& algorithm) {
  Map lb(m, "load_balancing", "load_balancing of " + m.what());
  read_enum(lb, "algorithm", algorithm,
            Names<LoadBalancing>{{"round_robin", LoadBalancing::round_robin},
                                 {"least_connections", LoadBalancing::least_connections},
                                 {"weighted_round_robin", LoadBalancing::weighted_round_robin},
                                 {"random", LoadBalancing::random},
                                 {"ip_hash", LoadBalancing::ip_hash},
                                 {"latency", LoadBalancing::latency},
                                 {"cost_based", LoadBalancing::cost_based}});
}

void read_retry(Map& m, RetryConfig& retry) {
  Map r(m, "retry", "retry of " + m.what());
  read(r, "enabled", retry.enabled);
  read_u32(r, "max_attempts", retry.max_attempts, 1);
  read(r, "delay", retry.delay);
  read(r, "max_delay", retry.max_delay);
  read_enum(r, "backoff", retry.backoff,
            Names<Backoff>{{"fixed", Backoff::fixed},
                           {"exponential", Backoff::exponential},
                           {"linear", Backoff::linear}});
  read_number(r, "backoff_factor", retry.backoff_factor, 1, 100);
  read_list(r, "retryable_errors", retry.retryable_errors,
            [](std::string_view t) { return parse_integer(t, 0, UINT32_MAX); });
}

void read_upstream_rate_limit(Map& m, UpstreamRateLimit& rate) {
  Map r(m, "rate_limit", "rate_limit of " + m.what());
  read_number(r, "messages_per_second", rate.messages_per_second);
  read_u32(r, "burst", rate.burst);
}

void read_window(Map& m, WindowConfig& window) {
  Map w(m, "window", "window of " + m.what());
  read_u32(w, "size", window.size, 1);
  read(w, "timeout", window.timeout);
}

// `timeouts.enquire_link` and `enquire_link.timeout` say the same thing: how long an
// enquire_link may wait for its answer before the connection is closed. enquire_link.timeout
// wins when both are written (a warning says so).
void read_enquire_link(Map& m, const yaml::Node& timeouts_enquire_link, UpstreamConfig& u) {
  Map e(m, "enquire_link", "enquire_link of " + m.what());
  read(e, "interval", u.enquire_link.interval);
  read(e, "timeout", u.enquire_link.timeout);
  if (!timeouts_enquire_link.IsDefined()) return;
  if (!e.has("timeout")) {
    u.enquire_link.timeout = u.timeouts.enquire_link;
  } else if (u.enquire_link.timeout != u.timeouts.enquire_link) {
    m.ctx().warning(timeouts_enquire_link,
                    "timeouts of " + m.what() + ": enquire_link (" +
                        std::to_string(u.timeouts.enquire_link.count()) +
                        " ms) is ignored: enquire_link.timeout (" +
                        std::to_string(u.enquire_link.timeout.count()) + " ms, line " +
                        std::to_string(e.get("timeout").Mark().line + 1) + ") applies");
  }
}

// `protocol.version` is `bind.version` written elsewhere: it is the version bound with when
// bind.version is not written, and an error when both are written and differ.
void read_protocol(Map& m, UpstreamConfig& u) {
  Map p(m, "protocol", "protocol of " + m.what());
  smpp::Version version = u.bind.version;
  read(p, "version", version);
  if (p.has("version")) {
    if (!u.bind.version_given) {
      u.bind.version = version;
      u.bind.version_given = true;
    } else if (version != u.bind.version) {
      m.ctx().error(p.get("version"), "protocol.version of " + m.what() +
                                          " differs from its bind.version; write "
                                          "one of them");
    }
  }
  u.protocol.version = u.bind.version;
  read(p, "auto_respond_enquire", u.protocol.auto_respond_enquire);
  read(p, "auto_respond_unbind", u.protocol.auto_respond_unbind);
}

void read_message_options(Map& m, MessageConfig& message) {
  Map g(m, "message", "message options of " + m.what());
  if (g.has("max_length")) {
    uint32_t max_length = 160;
    read_u32(g, "max_length", max_length, 1);
    message.max_length = max_length;
  }
  read_enum(g, "default_encoding", message.default_encoding,
            Names<Encoding>{{"gsm7", Encoding::gsm7},
                            {"ucs2", Encoding::ucs2},
                            {"latin1", Encoding::latin1},
                            {"ascii", Encoding::ascii},
                            {"binary", Encoding::binary}});
  read_u8(g, "default_registered_delivery", message.default_registered_delivery);
  read(g, "default_service_type", message.default_service_type);
  read_u8(g, "default_source_addr_ton", message.default_source_addr_ton);
  read_u8(g, "default_source_addr_npi", message.default_source_addr_npi);
}

void read_upstream_failover(Map& m, const std::string& name, References& refs,
                            UpstreamFailover& failover) {
  Map f(m, "failover", "failover of " + m.what());
  read_enabled(f, failover.enabled);
  read_u32(f, "threshold", failover.threshold, 1);
  read(f, "recovery_time", failover.recovery_time);
  read(f, "fallback", failover.fallback);
  if (!failover.fallback.empty()) {
    refs.upstreams.add(failover.fallback, f.get("fallback"));
    if (failover.fallback == name)
      m.ctx().error(f.get("fallback"), m.what() + " cannot fail over to itself");
  }
}

UpstreamConfig read_upstream(Context& ctx, const yaml::Node& node, std::size_t index, KeyScope keys,
                             References& refs, std::vector<NamedNode>& names) {
  UpstreamConfig u;
  Map m(ctx, node, "upstream #" + std::to_string(index + 1), keys);
  if (m.require("name").IsDefined()) read(m, "name", u.name);
  names.push_back({u.name, m.has("name") ? m.get("name") : node});
  if (!u.name.empty()) m.rename("upstream '" + u.name + "'");
  read_enum(
      m, "type", u.type,
      Names<UpstreamType>{{"smpp", UpstreamType::smpp}, {"simulator", UpstreamType::simulator}});
  read_hosts(m, node, u);
  read_bind(m, node, u);
  read_tls(m, u.tls, false);
  read_pool(m, u.pool);
  const yaml::Node timeouts_enquire_link = read_upstream_timeouts(m, u.timeouts);
  read_health(m, u.bind, u.health);
  read_load_balancing(m, u.load_balancing);
  read_retry(m, u.retry);
  read_upstream_rate_limit(m, u.rate_limit);
  read_window(m, u.window);
  read_enquire_link(m, timeouts_enquire_link, u);
  read_protocol(m, u);
  read_message_options(m, u.message);
  read_upstream_failover(m, u.name, refs, u.failover);
  read_string_map(m, "tags", u.tags, as_is);
  if (m.has("simulator") && u.type != UpstreamType::simulator) {
    ctx.error(m.get("simulator"), "'simulator' applies only to upstreams with type: simulator");
  }
  read_simulator(m, u.simulator);
  return u;
}

Parsed<Schedule> parse_hours(std::string_view t) {
  auto bad = "invalid hours '" + std::string(t) + "' (expected HH:MM-HH:MM, e.g. 22:00-06:00)";
  auto minute_of = [](std::string_view hm) -> std::optional<uint16_t> {
    if (hm.size() != 5 || hm[2] != ':') return std::nullopt;
    auto h = parse_integer(hm.substr(0, 2), 0, 24);
    auto m = parse_integer(hm.substr(3, 2), 0, 59);
    if (h.index() == 1 || m.index() == 1) return std::nullopt;
    auto total = std::get<0>(h) * 60 + std::get<0>(m);
    if (total > 24 * 60) return std::nullopt;
    return static_cast<uint16_t>(total);
  };
  auto dash = t.find('-');
  if (dash == std::string_view::npos) return Invalid{bad};
  auto start = minute_of(t.substr(0, dash));
  auto end = minute_of(t.substr(dash + 1));
  if (!start || !end) return Invalid{bad};
  Schedule s;
  s.hours = std::string(t);
  s.start_minute = *start;
  s.end_minute = *end;
  return s;
}

RouteConfig read_route(Context& ctx, const yaml::Node& node, std::size_t index, KeyScope keys,
                       References& refs, std::vector<NamedNode>& names) {
  RouteConfig r;
  Map m(ctx, node, "route #" + std::to_string(index + 1), keys);
  r.name = "route-" + std::to_string(index);
  read(m, "name", r.name);
  names.push_back({r.name, m.has("name") ? m.get("name") : node});
  if (m.has("name")) m.rename("route '" + r.name + "'");
  {
    Map mm(m, "match", "match of " + m.what());
    read_pattern(mm, "destination_addr", r.match.destination_addr);
    read_pattern(mm, "source_addr", r.match.source_addr);
    read(mm, "service_type", r.match.service_type);
    read(mm, "client", r.match.client);
    if (r.match.client) refs.clients.add(*r.match.client, mm.get("client"));
    if (mm.has("source_addr_ton")) {
      uint8_t ton = 0;
      read_u8(mm, "source_addr_ton", ton);
      r.match.source_addr_ton = ton;
    }
    yaml::Node sched = mm.get("schedule");
    if (sched.IsDefined()) {
      Map s(ctx, sched, "schedule of " + m.what(), mm.scope("schedule"));
      Schedule value;
      s.require("hours");
      read_with(s, "hours", value, parse_hours);
      read(s, "timezone", value.timezone);
      if (s.has("timezone")) {
        // Each zone is read once per load, however many routes name it.
        auto [known, first] = ctx.timezones.try_emplace(value.timezone);
        if (first && !TimeZone::load(value.timezone, &known->second) && known->second.empty())
          known->second = "unknown time zone";
        if (!known->second.empty())
          ctx.error(s.get("timezone"), "timezone of " + m.what() + ": " + known->second +
                                           "; expected an IANA name such as Africa/Maputo");
      }
      r.match.schedule = std::make_shared<Schedule>(std::move(value));
    }
    // The network of the MNP answer: digits only, so that a typo cannot make a route that
    // never matches.
    auto read_code = [&](const char* key, std::size_t min, std::size_t max,
                         std::optional<std::string>& out) {
      read(mm, key, out);
      if (!out) return;
      const bool digits =
          std::all_of(out->begin(), out->end(), [](char ch) { return ch >= '0' && ch <= '9'; });
      if (!digits || out->size() < min || out->size() > max) {
        ctx.error(mm.get(key),
                  key_what(mm, key) + ": '" + *out + "' is not " +
                      (min == max ? std::to_string(min)
                                  : std::to_string(min) + " or " + std::to_string(max)) +
                      " digits (write it quoted: \"01\")");
        out.reset();
      }
    };
    read_code("mcc", 3, 3, r.match.mcc);
    read_code("mnc", 2, 3, r.match.mnc);
    if (mm.has("is_ported")) {
      bool ported = false;
      read(mm, "is_ported", ported);
      r.match.is_ported = ported;
    }
    for (const char* key : {"mcc", "mnc", "is_ported"}) {
      if (!mm.has(key)) continue;
      refs.mnp_routes.push_back({r.name, key, mm.get(key)});
      break;
    }
  }
  read(m, "upstream", r.upstream);
  read(m, "failover", r.failover);
  read(m, "script", r.script);
  if (!r.script.empty()) name_file(m, "script", FileUse::script, r.script);
  if (!r.upstream.empty()) refs.upstreams.add(r.upstream, m.get("upstream"));
  if (!r.failover.empty()) refs.upstreams.add(r.failover, m.get("failover"));
  if (m.valid() && r.upstream.empty() && r.script.empty()) {
    ctx.error(node, m.what() + " needs 'upstream' or 'script'");
  }
  return r;
}

MoRouteConfig read_mo_route(Context& ctx, const yaml::Node& node, std::size_t index, KeyScope keys,
                            References& refs, std::vector<NamedNode>& names) {
  MoRouteConfig r;
  Map m(ctx, node, "mo_route #" + std::to_string(index + 1), keys);
  r.name = "mo-route-" + std::to_string(index);
  read(m, "name", r.name);
  names.push_back({r.name, m.has("name") ? m.get("name") : node});
  {
    Map mm(m, "match", "match of " + m.what());
    read_pattern(mm, "destination_addr", r.match.destination_addr);
    read_pattern(mm, "source_addr", r.match.source_addr);
    read(mm, "upstream", r.match.upstream);
    if (r.match.upstream) refs.upstreams.add(*r.match.upstream, mm.get("upstream"));
  }
  if (m.require("client").IsDefined()) {
    read(m, "client", r.client);
    refs.clients.add(r.client, m.get("client"));
  }
  return r;
}

// What a configured client and auth.defaults both have (ClientConfig, ExternalDefaults):
// allowed_ips, bind_types, max_connections, rate_limit (a number or a mapping), upstream, tier,
// tags.
template <class Settings>
void read_client_settings(Map& m, References& refs, Settings& c) {
  Context& ctx = m.ctx();
  const std::string what = m.what();
  read_cidrs(m, "allowed_ips", c.allowed_ips);
  read_list(m, "bind_types", c.bind_types,
            [](std::string_view t) { return parse_enum(t, kBindTypes); });
  read_u32(m, "max_connections", c.max_connections);
  yaml::Node rl = m.get("rate_limit");
  if (rl.IsScalar()) {
    auto text = scalar(ctx, rl, "'rate_limit' in " + what);
    if (text) {
      auto v = parse_number(*text, 0, 1e12);
      if (v.index() == 1)
        ctx.error(rl, "'rate_limit' in " + what + ": " + std::get<1>(v).reason +
                          " (expected messages per second, or a mapping)");
      else
        c.rate_limit.messages_per_second = std::get<0>(v);
    }
  } else {
    Map r(ctx, rl, "rate_limit of " + what, m.scope("rate_limit"));
    read_number(r, "messages_per_second", c.rate_limit.messages_per_second);
    read_u32(r, "burst", c.rate_limit.burst);
    read_u32(r, "window_size", c.rate_limit.window_size);
  }
  read(m, "upstream", c.upstream);
  if (!c.upstream.empty()) refs.upstreams.add(c.upstream, m.get("upstream"));
  read(m, "tier", c.tier);
  read_string_map(m, "tags", c.tags, as_is);
}

ClientConfig read_client(Context& ctx, const yaml::Node& node, std::size_t index, KeyScope keys,
                         References& refs, std::vector<NamedNode>& names,
                         std::vector<NamedNode>& api_keys) {
  ClientConfig c;
  Map m(ctx, node, "client #" + std::to_string(index + 1), keys);
  if (m.require("system_id").IsDefined()) read(m, "system_id", c.system_id);
  names.push_back({c.system_id, m.has("system_id") ? m.get("system_id") : node});
  const std::string what = c.system_id.empty() ? m.what() : "client '" + c.system_id + "'";
  m.rename(what);
  if (c.system_id.size() > 15)
    ctx.error(m.get("system_id"),
              "system_id '" + c.system_id + "' is longer than SMPP's 15 characters");
  m.require("password");
  read(m, "password", c.password);
  if (c.password.size() > 8)
    ctx.error(m.get("password"), "the password of " + what + " is longer than SMPP's 8 characters");
  read_client_settings(m, refs, c);
  read_strings(m, "api_keys", c.api_keys);
  for (const std::string& key : c.api_keys) {
    // The key itself never appears in a message: it is a secret.
    if (key.size() < 16) {
      ctx.error(m.get("api_keys"), "an api_key of " + what +
                                       " is shorter than 16 characters (too easy to guess)");
    }
    api_keys.push_back({key, m.get("api_keys")});
  }
  {
    Map cb(m, "callbacks", "callbacks of " + what);
    auto url = [&](const std::string& key, std::string& out) {
      read(cb, key, out);
      if (out.empty()) return;
      const bool http = out.rfind("http://", 0) == 0 || out.rfind("https://", 0) == 0;
      if (!http || out.find_first_of(" \t\r\n") != std::string::npos || out.size() > 2048) {
        ctx.error(cb.get(key), "'" + key + "' of " + what +
                                   " must be an http:// or https:// URL (at most 2048 characters, "
                                   "no spaces)");
      }
    };
    url("receipt_url", c.callbacks.receipt_url);
    url("mo_url", c.callbacks.mo_url);
    read(cb, "secret", c.callbacks.secret);
    read(cb, "timeout", c.callbacks.timeout);
    read(cb, "retry_for", c.callbacks.retry_for);
    read_u32(cb, "max_concurrent", c.callbacks.max_concurrent, 1);
    read(cb, "allow_private_networks", c.callbacks.allow_private_networks);
  }
  {
    Map a(m, "addresses", "addresses of " + what);
    // Patterns as routes write them ("*", "+1900*", "258841234567"), checked here.
    auto patterns = [&](Map& side, const std::string& key, std::vector<std::string>& out) {
      read_strings(side, key, out);
      for (const std::string& p : out) {
        auto parsed = parse_address_pattern(p);
        if (parsed.index() == 1) {
          ctx.error(side.get(key), "'" + p + "' in " + key + " of " + side.what() + ": " +
                                       std::get<1>(parsed).reason);
        }
      }
    };
    Map s(a, "source", "source addresses of " + what);
    patterns(s, "allowed", c.source_addresses.allowed);
    patterns(s, "blocked", c.source_addresses.blocked);
    Map d(a, "destination", "destination addresses of " + what);
    patterns(d, "allowed", c.destination_addresses.allowed);
    patterns(d, "blocked", c.destination_addresses.blocked);
  }
  return c;
}

bool is_header_token(std::string_view s);

const Names<AuthBackend> kAuthBackends = {
    {"ldap", AuthBackend::ldap}, {"radius", AuthBackend::radius}, {"http", AuthBackend::http}};

// The settings an external client gets where its backend says nothing: a client's keys, without
// its credentials.
void read_external_defaults(Map& parent, References& refs, ExternalDefaults& d) {
  Map m(parent, "defaults", "auth.defaults");
  read_client_settings(m, refs, d);
}

// An http:// or https:// URL (or, for LDAP, ldap:// and ldaps:// ones, several separated by
// spaces): checked where it is written.
void check_url(Map& m, const std::string& key, const std::string& url, bool ldap) {
  if (url.empty()) return;
  bool ok = url.size() <= 2048 && url.find_first_of("\t\r\n") == std::string::npos;
  std::size_t start = 0;
  std::size_t count = 0;
  while (ok && start < url.size()) {
    std::size_t end = ldap ? url.find(' ', start) : std::string::npos;
    if (end == std::string::npos) end = url.size();
    const std::string_view one(url.data() + start, end - start);
    start = end + 1;
    if (one.empty()) continue;
    ++count;
    const std::string_view scheme = one.substr(0, one.find("://"));
    const bool known = ldap ? (scheme == "ldap" || scheme == "ldaps")
                            : (scheme == "http" || scheme == "https");
    const std::size_t host_at = scheme.size() + 3;
    ok = known && one.size() > host_at && one.find("://") != std::string_view::npos &&
         (ldap || one.find(' ') == std::string_view::npos) && one[host_at] != '/';
  }
  if (!ok || count == 0) {
    m.ctx().error(m.get(key), key_what(m, key) +
                                  (ldap ? " must be ldap:// or ldaps:// URLs with a host "
                                          "(several separated by spaces)"
                                        : " must be an http:// or https:// URL with a host (at "
                                          "most 2048 characters, no spaces)"));
  }
}

void read_auth(Context& ctx, const yaml::Node& node, KeyScope keys, References& refs,
               AuthConfig& a) {
  Map m(ctx, node, "auth", keys);
  read_list(m, "order", a.order, [](std::string_view t) { return parse_enum(t, kAuthBackends); });
  for (std::size_t i = 0; i < a.order.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (a.order[i] == a.order[j]) ctx.error(m.get("order"), "'order' in auth names a backend twice");
    }
  }
  read(m, "negative_ttl", a.negative_ttl);
  read(m, "stale_ttl", a.stale_ttl);
  {
    uint32_t max_cached = static_cast<uint32_t>(a.max_cached);
    read_u32(m, "max_cached", max_cached);
    a.max_cached = max_cached;
  }
  read_external_defaults(m, refs, a.defaults);
  auto positive = [&](Map& section, const std::string& key, const Duration& d) {
    if (d.count() <= 0) ctx.error(section.get(key), key_what(section, key) + " must be above 0");
  };
  {
    Map l(m, "ldap", "auth.ldap");
    read_enabled(l, a.ldap.enabled);
    read(l, "url", a.ldap.url);
    check_url(l, "url", a.ldap.url, true);
    read(l, "start_tls", a.ldap.start_tls);
    read(l, "ca_file", a.ldap.ca_file);
    if (!a.ldap.ca_file.empty()) name_file(l, "ca_file", FileUse::ca, a.ldap.ca_file);
    read(l, "bind_dn", a.ldap.bind_dn);
    read(l, "bind_password", a.ldap.bind_password);
    read(l, "base_dn", a.ldap.base_dn);
    read(l, "filter", a.ldap.filter, true);
    read(l, "timeout", a.ldap.timeout);
    positive(l, "timeout", a.ldap.timeout);
    read(l, "cache_ttl", a.ldap.cache_ttl);
    read_u32(l, "connections", a.ldap.connections, 1);
    if (a.ldap.connections > 64) ctx.error(l.get("connections"), "'connections' in auth.ldap is at most 64");
    {
      Map at(l, "attributes", "auth.ldap.attributes");
      read(at, "allowed_ips", a.ldap.attributes.allowed_ips);
      read(at, "bind_types", a.ldap.attributes.bind_types);
      read(at, "rate_limit", a.ldap.attributes.rate_limit);
      read(at, "window_size", a.ldap.attributes.window_size);
      read(at, "max_connections", a.ldap.attributes.max_connections);
      read(at, "upstream", a.ldap.attributes.upstream);
      read(at, "tier", a.ldap.attributes.tier);
      read(at, "tags", a.ldap.attributes.tags);
    }
    if (a.ldap.enabled) {
      if (a.ldap.url.empty()) ctx.error(l.node(), "auth.ldap needs 'url'");
      if (a.ldap.base_dn.empty()) ctx.error(l.node(), "auth.ldap needs 'base_dn' (where clients are searched)");
      if (a.ldap.filter.find("{system_id}") == std::string::npos ||
          a.ldap.filter.front() != '(' || a.ldap.filter.back() != ')') {
        ctx.error(l.get("filter").IsDefined() ? l.get("filter") : l.node(),
                  "'filter' in auth.ldap must be an LDAP filter in parentheses with {system_id} "
                  "in it, e.g. (uid={system_id})");
      }
      if (!a.ldap.bind_dn.empty() && a.ldap.bind_password.empty()) {
        ctx.error(l.get("bind_dn"), "auth.ldap has 'bind_dn' but no 'bind_password'");
      }
      if (a.ldap.start_tls && a.ldap.url.find("ldaps://") != std::string::npos) {
        ctx.error(l.get("start_tls"), "auth.ldap: start_tls is for ldap:// URLs; ldaps:// is TLS already");
      }
      if (!a.ldap.start_tls && a.ldap.url.find("ldap://") != std::string::npos) {
        ctx.warning(l.get("url"), "auth.ldap: clients' passwords go to ldap:// in clear text "
                                  "(use ldaps:// or start_tls: true)");
      }
    }
  }
  {
    Map r(m, "radius", "auth.radius");
    read_enabled(r, a.radius.enabled);
    if (r.has("server")) {
      HostPort one;
      read_address(r, "server", one, false);
      a.radius.servers.push_back(one);
    }
    read_list(r, "servers", a.radius.servers,
              [](std::string_view t) { return parse_host_port(t, false); });
    if (r.has("server") && r.has("servers")) {
      ctx.error(r.get("servers"), "auth.radius takes 'server' or 'servers', not both");
    }
    read(r, "secret", a.radius.secret);
    read(r, "timeout", a.radius.timeout);
    positive(r, "timeout", a.radius.timeout);
    read_u32(r, "retries", a.radius.retries);
    if (a.radius.retries > 10) ctx.error(r.get("retries"), "'retries' in auth.radius is at most 10");
    read(r, "nas_identifier", a.radius.nas_identifier);
    if (a.radius.nas_identifier.size() > 253)
      ctx.error(r.get("nas_identifier"), "'nas_identifier' in auth.radius is at most 253 bytes");
    read_u32(r, "vendor_id", a.radius.vendor_id);
    if (a.radius.vendor_id > 0xFFFFFF)
      ctx.error(r.get("vendor_id"), "'vendor_id' in auth.radius is an IANA enterprise number (at most 16777215)");
    read(r, "cache_ttl", a.radius.cache_ttl);
    read(r, "require_message_authenticator", a.radius.require_message_authenticator);
    if (a.radius.enabled) {
      if (a.radius.servers.empty()) ctx.error(r.node(), "auth.radius needs 'server' (or 'servers')");
      if (a.radius.secret.empty()) ctx.error(r.node(), "auth.radius needs 'secret' (the shared secret)");
    }
  }
  {
    Map h(m, "http", "auth.http");
    read_enabled(h, a.http.enabled);
    read(h, "url", a.http.url);
    check_url(h, "url", a.http.url, false);
    read(h, "timeout", a.http.timeout);
    positive(h, "timeout", a.http.timeout);
    read(h, "cache_ttl", a.http.cache_ttl);
    read(h, "ca_file", a.http.ca_file);
    if (!a.http.ca_file.empty()) name_file(h, "ca_file", FileUse::ca, a.http.ca_file);
    read_string_map(h, "headers", a.http.headers, as_is);
    for (const auto& [header, value] : a.http.headers) {
      if (!is_header_token(header) || value.find_first_of("\r\n") != std::string::npos) {
        ctx.error(h.get("headers"), "header '" + header + "' in auth.http is not a valid HTTP header");
      }
    }
    if (a.http.enabled && a.http.url.empty()) ctx.error(h.node(), "auth.http needs 'url'");
    if (a.http.enabled && a.http.url.rfind("http://", 0) == 0) {
      ctx.warning(h.get("url"), "auth.http: clients' passwords go to an http:// URL in clear text "
                                "(use https://)");
    }
  }
  if (m.valid() && a.any()) {
    bool ordered = false;
    for (AuthBackend b : a.order) {
      ordered = ordered || (b == AuthBackend::ldap && a.ldap.enabled) ||
                (b == AuthBackend::radius && a.radius.enabled) ||
                (b == AuthBackend::http && a.http.enabled);
    }
    if (!ordered) ctx.error(m.get("order"), "'order' in auth names none of the enabled backends");
  }
}

const Names<LogLevel> kLogLevels = {{"debug", LogLevel::debug},
                                    {"info", LogLevel::info},
                                    {"warn", LogLevel::warn},
                                    {"error", LogLevel::error}};

// A transform rule's `match`, `set` or `transform`: each key a message field, each value
// checked by `check` (field, text) where it is written, so that the error has its line. Values
// are kept raw: ${destination_addr} in a transform is a message field, not a variable.
template <class Check>
void read_rule_fields(Map& parent, const std::string& key, std::map<std::string, std::string>& out,
                      Check check) {
  read_string_map(parent, key, out, as_is, true);
  yaml::Node n = parent.get(key);
  if (!n.IsDefined() || !n.IsMap()) return;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const std::string name(n.key(i).Scalar());
    auto it = out.find(name);
    if (it == out.end()) continue;  // not a scalar: reported already
    const auto field = parse_message_field(name);
    if (!field) {
      std::string message = "unknown message field '" + name + "' in " + key_what(parent, key);
      if (auto guess = closest_match(name, message_field_names()))
        message += "; did you mean '" + *guess + "'?";
      parent.ctx().error(n.key(i), message);
      continue;
    }
    if (auto why = check(*field, it->second)) {
      parent.ctx().error(n.value(i), "'" + name + "' in " + key_what(parent, key) + ": " + *why);
    }
  }
}

void read_transform_rule(Map& r, TransformRule& rule) {
  read_rule_fields(r, "match", rule.match,
                   [](MessageField, const std::string& pattern) -> std::optional<std::string> {
                     if (auto bad = check_message_regex(pattern)) return bad->reason;
                     return std::nullopt;
                   });
  read_rule_fields(r, "set", rule.set,
                   [](MessageField f, const std::string& v) -> std::optional<std::string> {
                     if (f == MessageField::client)
                       return "the client a message came from cannot be set";
                     if (!is_numeric(f)) return std::nullopt;
                     auto n = parse_integer(v, 0, 255);
                     if (n.index() == 1) return std::get<1>(n).reason;
                     return std::nullopt;
                   });
  read_rule_fields(r, "transform", rule.transform,
                   [&](MessageField f, const std::string& v) -> std::optional<std::string> {
                     if (f == MessageField::client) {
                       return "the client a message came from cannot be rewritten";
                     }
                     if (is_numeric(f)) {
                       return "a numeric field is written with 'set', not a template";
                     }
                     if (rule.set.contains(std::string(to_string(f)))) {
                       return "written by both 'set' and 'transform'";
                     }
                     auto t = parse_message_template(v);
                     if (t.index() == 1) return std::get<1>(t).reason;
                     return std::nullopt;
                   });
}

MiddlewareConfig read_middleware(Context& ctx, const yaml::Node& node, std::size_t index,
                                 KeyScope keys) {
  MiddlewareConfig mw;
  Map m(ctx, node, "middleware #" + std::to_string(index + 1), keys);
  m.require("type");
  read_enum(m, "type", mw.type,
            Names<MiddlewareType>{{"logger", MiddlewareType::logger},
                                  {"auth", MiddlewareType::auth},
                                  {"rate_limit", MiddlewareType::rate_limit},
                                  {"address_filter", MiddlewareType::address_filter},
                                  {"transform", MiddlewareType::transform},
                                  {"protocol", MiddlewareType::protocol},
                                  {"metrics", MiddlewareType::metrics}});
  // Each type knows only its own keys.
  switch (mw.type) {
    case MiddlewareType::logger:
      read_enum(m, "level", mw.level, kLogLevels);
      break;
    case MiddlewareType::transform:
      for_each_item(ctx, m.get("rules"), "rules", [&](const yaml::Node& item, std::size_t i) {
        TransformRule rule;
        Map r(ctx, item, "transform rule #" + std::to_string(i + 1), m.scope("rules"));
        read_transform_rule(r, rule);
        mw.rules.push_back(std::move(rule));
      });
      break;
    case MiddlewareType::protocol: {
      std::map<std::string, smpp::Version> mapping;
      read_string_map(m, "version_mapping", mapping, parse_smpp_version);
      for (const auto& [from, to] : mapping) {
        if (auto v = smpp::parse_version(from)) {
          mw.version_mapping.emplace_back(*v, to);
        } else {
          ctx.error(
              m.get("version_mapping"),
              "invalid SMPP version '" + from + "' in version_mapping (expected 3.3, 3.4 or 5.0)");
        }
      }
      break;
    }
    case MiddlewareType::metrics:
      read(m, "prometheus", mw.prometheus);
      break;
    default:
      break;
  }
  return mw;
}

void read_multipart(Context& ctx, const yaml::Node& node, KeyScope keys, MultipartConfig& mp) {
  Map m(ctx, node, "multipart", keys);
  {
    Map r(m, "reassembly", "multipart.reassembly");
    read(r, "enabled", mp.reassembly_enabled);
    read(r, "timeout", mp.reassembly_timeout);
    read_u32(r, "max_parts", mp.reassembly_max_parts, 1);
    read_size(r, "buffer_size", mp.reassembly_buffer_size);
  }
  {
    Map s(m, "segmentation", "multipart.segmentation");
    read(s, "enabled", mp.segmentation_enabled);
    read_enum(s, "method", mp.segmentation_method,
              Names<SegmentationMethod>{{"udh", SegmentationMethod::udh},
                                        {"sar_tlv", SegmentationMethod::sar_tlv}});
    read_u32(s, "max_parts", mp.segmentation_max_parts, 1);
    if (mp.segmentation_max_parts > 255)
      ctx.error(s.get("max_parts"), "max_parts cannot exceed 255");
  }
  {
    Map r(m, "reference", "multipart.reference");
    read_enum(r, "mode", mp.reference_mode,
              Names<ReferenceMode>{{"preserve", ReferenceMode::preserve},
                                   {"regenerate", ReferenceMode::regenerate},
                                   {"sequential", ReferenceMode::sequential}});
  }
}

void read_storage(Context& ctx, const yaml::Node& node, KeyScope keys, StorageConfig& s) {
  Map m(ctx, node, "storage", keys);
  read_enabled(m, s.enabled);
  read_enum(m, "backend", s.backend,
            Names<StorageBackend>{{"sqlite", StorageBackend::sqlite},
                                  {"badger", StorageBackend::badger}});
  if (s.enabled && s.backend == StorageBackend::badger) {
    ctx.error(m.get("backend"),
              "storage.backend: badger is a Go library and is not available in this C++ smppd; "
              "use sqlite (storage.sqlite.path)");
  }
  {
    Map q(m, "sqlite", "storage.sqlite");
    read(q, "path", s.sqlite_path);
    if (s.enabled && s.backend == StorageBackend::sqlite && !s.sqlite_path.empty())
      name_file(q, "path", FileUse::file_in_folder, s.sqlite_path, -1, m.node());
    read_enum(q, "journal_mode", s.sqlite_journal_mode,
              Names<std::string>{{"wal", "wal"},
                                 {"delete", "delete"},
                                 {"truncate", "truncate"},
                                 {"persist", "persist"},
                                 {"memory", "memory"},
                                 {"off", "off"}});
  }
  for (auto [key, section] :
       {std::pair{"deliver_sm", &s.deliver_sm}, std::pair{"submit_sm", &s.submit_sm}}) {
    Map d(m, key, std::string("storage.") + key);
    read(d, "enabled", section->enabled);
    read(d, "retention", section->retention);
  }
  {
    Map c(m, "cdr", "storage.cdr");
    read_enabled(c, s.cdr_enabled);
    read(c, "path", s.cdr_path);
    if (s.enabled && s.cdr_enabled && !s.cdr_path.empty())
      name_file(c, "path", FileUse::folder, s.cdr_path);
    read_enum(c, "format", s.cdr_format,
              Names<CdrFormat>{{"json", CdrFormat::json}, {"csv", CdrFormat::csv}});
    Map r(c, "rotation", "storage.cdr.rotation");
    read_size(r, "size", s.cdr_rotation_size);
    read(r, "time", s.cdr_rotation_time);
  }
}

// tracing.otlp.endpoint. Port 4317 is OTLP/gRPC's, which smppd does not speak yet: written
// without a scheme (as the design's example, "otel-collector:4317"), the collector's OTLP/HTTP
// port on the same host, 4318, is used instead; written with http://, it is used as written.
// Either way a warning says so, at the key.
void read_otlp_endpoint(Map& tracing, TracingConfig& t) {
  Map o(tracing, "otlp", "tracing.otlp");
  OtlpEndpointText written;
  bool given = false;
  read_with(o, "endpoint", written, [&](std::string_view text) {
    given = true;
    t.otlp_endpoint = text;
    return parse_otlp_endpoint(text);
  });
  if (!given || written.address.host.empty()) return;
  t.otlp.address = written.address;
  t.otlp.path = written.path;
  if (written.address.port != 4317) return;
  const std::string grpc = "port 4317 is OTLP/gRPC, which smppd does not speak yet (it needs "
                           "the gRPC feature); ";
  if (written.scheme_written) {
    o.ctx().warning(o.get("endpoint"), "tracing.otlp: endpoint: " + grpc +
                                           "OTLP/HTTP is sent to it as written (http://): a "
                                           "collector's OTLP/HTTP port is usually 4318");
    return;
  }
  t.otlp.address.port = 4318;
  o.ctx().warning(o.get("endpoint"),
                  "tracing.otlp: endpoint: " + grpc + "spans are sent as OTLP/HTTP to http://" +
                      t.otlp.address.to_string() + t.otlp.path +
                      ", the collector's usual OTLP/HTTP port (write http://host:port to choose "
                      "the port)");
}

void read_observability(Context& ctx, Map& top, Config& c) {
  {
    Map m(top, "metrics", "metrics");
    read_enabled(m, c.metrics.enabled);
    Map p(m, "prometheus", "metrics.prometheus");
    read(p, "enabled", c.metrics.prometheus_enabled);
    read(p, "path", c.metrics.prometheus_path);
    read_int(p, "port", c.metrics.prometheus_port, 1, 65535);
    read_address(p, "address", c.metrics.prometheus_address, true);
    if (!c.metrics.prometheus_path.starts_with('/')) {
      ctx.error(p.node(), "metrics.prometheus.path must start with '/'");
    }
  }
  {
    Map m(top, "logging", "logging");
    read_enum(m, "level", c.logging.level, kLogLevels);
    read_enum(m, "format", c.logging.format,
              Names<LogFormat>{{"json", LogFormat::json}, {"text", LogFormat::text}});
    read_enum(m, "output", c.logging.output,
              Names<LogOutput>{{"stdout", LogOutput::stdout_},
                               {"stderr", LogOutput::stderr_},
                               {"file", LogOutput::file}});
    Map f(m, "file", "logging.file");
    read(f, "path", c.logging.file_path);
    Map r(f, "rotation", "logging.file.rotation");
    read_size(r, "size", c.logging.rotation_size);
    read_u32(r, "max_files", c.logging.rotation_max_files, 1);
    if (c.logging.output == LogOutput::file && c.logging.file_path.empty()) {
      ctx.error(m.node(), "logging output 'file' needs file.path");
    } else if (c.logging.output == LogOutput::file) {
      name_file(f, "path", FileUse::file_in_folder, c.logging.file_path);
    }
  }
  {
    Map m(top, "tracing", "tracing");
    read_enabled(m, c.tracing.enabled);
    read_otlp_endpoint(m, c.tracing);
    Map s(m, "sampling", "tracing.sampling");
    read_number(s, "ratio", c.tracing.sampling_ratio, 0, 1);
    Map j(m, "jaeger", "tracing.jaeger");
    read(j, "endpoint", c.tracing.jaeger_endpoint);
  }
}

void read_cluster(Context& ctx, const yaml::Node& node, KeyScope keys, ClusterConfig& c) {
  Map m(ctx, node, "cluster", keys);
  read_enabled(m, c.enabled);
  read(m, "node_id", c.node_id);
  {
    Map d(m, "discovery", "cluster.discovery");
    read_enum(d, "method", c.discovery,
              Names<DiscoveryMethod>{{"kubernetes", DiscoveryMethod::kubernetes},
                                     {"consul", DiscoveryMethod::consul},
                                     {"static", DiscoveryMethod::static_}});
    Map k(d, "kubernetes", "cluster.discovery.kubernetes");
    read(k, "namespace", c.kubernetes_namespace);
    read(k, "service", c.kubernetes_service);
    Map cs(d, "consul", "cluster.discovery.consul");
    read(cs, "address", c.consul_address);
    read(cs, "service", c.consul_service);
    Map st(d, "static", "cluster.discovery.static");
    // A node's id or host name alone, or host:port (an SMPP listener's).
    read_list(st, "peers", c.static_peers, [](std::string_view t) -> Parsed<HostPort> {
      if (!t.empty() && t.find(':') == std::string_view::npos) return HostPort{std::string(t), 0};
      return parse_host_port(t, false);
    });
  }
  {
    Map s(m, "sync", "cluster.sync");
    read(s, "sessions", c.sync_sessions);
    read(s, "messages", c.sync_messages);
    read(s, "config", c.sync_config);
  }
  {
    Map r(m, "redis", "cluster.redis");
    read_address(r, "address", c.redis_address, false);
    read(r, "username", c.redis_username);
    read(r, "password", c.redis_password);
    read_int(r, "db", c.redis_db, 0, 15);
    read_tls(r, c.redis_tls, false);
    read(r, "key_prefix", c.key_prefix);
    read(r, "timeout", c.redis_timeout);
    if (c.key_prefix.empty() || c.key_prefix.find_first_of(" \t\r\n{}") != std::string::npos) {
      ctx.error(r.get("key_prefix").IsDefined() ? r.get("key_prefix") : r.node(),
                "cluster.redis.key_prefix must be a non-empty word (no spaces or braces)");
    }
    if (c.redis_timeout.count() <= 0) {
      ctx.error(r.get("timeout").IsDefined() ? r.get("timeout") : node, "cluster.redis.timeout must be above 0");
    }
    if (!c.redis_username.empty() && c.redis_password.empty()) {
      ctx.error(r.get("username"), "cluster.redis.username needs a password");
    }
  }
  read(m, "heartbeat_interval", c.heartbeat_interval);
  read(m, "node_timeout", c.node_timeout);
  if (c.heartbeat_interval.count() <= 0) {
    ctx.error(m.get("heartbeat_interval"), "cluster.heartbeat_interval must be above 0");
  } else if (c.node_timeout < 2 * c.heartbeat_interval) {
    ctx.error(m.get("node_timeout").IsDefined() ? m.get("node_timeout") : node,
              "cluster.node_timeout must be at least twice heartbeat_interval (a node is gone "
              "after it; one late heartbeat must not make it so)");
  }
  if (c.enabled && c.heartbeat_interval.count() > 0 &&
      c.node_timeout <= c.heartbeat_interval + 2 * c.redis_timeout) {
    ctx.warning(m.get("node_timeout").IsDefined() ? m.get("node_timeout") : node,
                "cluster.node_timeout is not above heartbeat_interval + 2 x redis.timeout: a node "
                "whose Redis answers slowly (but within its timeout) may be seen gone");
  }
  if (!c.enabled) return;
  if (c.node_id.empty() || c.node_id.find_first_of(" \t\r\n:{}") != std::string::npos) {
    ctx.error(m.get("node_id").IsDefined() ? m.get("node_id") : node,
              "cluster.node_id must be set, one word without ':' (it names the node in Redis; "
              "${HOSTNAME} is the usual choice)");
  }
  const yaml::Node method = m.get("discovery").IsDefined() ? m.get("discovery").find("method") : yaml::Node();
  if (c.discovery == DiscoveryMethod::consul) {
    ctx.error(method.IsDefined() ? method : node,
              "cluster.discovery.method consul is not built: use static (a list of peers) or "
              "kubernetes (the headless service); the nodes find each other through Redis either way");
  }
  if (c.discovery == DiscoveryMethod::kubernetes && c.kubernetes_service.empty()) {
    ctx.error(method.IsDefined() ? method : node,
              "cluster.discovery.kubernetes.service must name the headless service whose DNS "
              "lists the nodes");
  }
}

void read_management(Context& ctx, const yaml::Node& node, KeyScope keys, ManagementConfig& mg) {
  Map m(ctx, node, "management", keys);
  read_enabled(m, mg.enabled);
  read_address(m, "address", mg.address, true);
  read_tls(m, mg.tls, true);
  Map a(m, "auth", "management.auth");
  read_enum(a, "type", mg.auth_type,
            Names<ManagementAuthType>{{"none", ManagementAuthType::none},
                                      {"basic", ManagementAuthType::basic},
                                      {"bearer", ManagementAuthType::bearer}});
  read(a, "username", mg.username);
  read(a, "password", mg.password);
  read(a, "token", mg.token);
  if (mg.auth_type == ManagementAuthType::basic && (mg.username.empty() || mg.password.empty())) {
    ctx.error(a.node(), "management auth 'basic' needs username and password");
  }
  if (mg.auth_type == ManagementAuthType::bearer && mg.token.empty()) {
    ctx.error(a.node(), "management auth 'bearer' needs a token");
  }
}

// A header name is an RFC 9110 token; a value may not end the line.
bool is_header_token(std::string_view s) {
  static constexpr std::string_view kSymbols = "!#$%&'*+-.^_`|~";
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           kSymbols.find(c) != std::string_view::npos;
  });
}

bool mentions_number(std::string_view text) {
  return text.find("{number}") != std::string_view::npos ||
         text.find("{e164}") != std::string_view::npos;
}

// One provider's section of mnp (xconnect, hlr_lookup, custom); every one is checked, the
// selected one is kept.
void read_mnp_provider(Map& m, const std::string& name, bool selected, MnpConfig& mnp) {
  Map p(m, name, "mnp." + name);
  Context& ctx = m.ctx();
  MnpConfig section;
  read(p, "url", section.url);
  if (!section.url.empty()) {
    const std::string& url = section.url;
    const bool http = url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
    if (!http || url.find_first_of(" \t\r\n") != std::string::npos || url.size() > 2048) {
      ctx.error(p.get("url"), "'url' of mnp." + name +
                                  " must be an http:// or https:// URL (at most 2048 characters, "
                                  "no spaces)");
    }
  }
  read(p, "api_key", section.api_key);
  if (section.api_key.find_first_of("\r\n") != std::string::npos)
    ctx.error(p.get("api_key"), "'api_key' of mnp." + name + " may not hold a line break");
  read_string_map(p, "headers", section.headers, as_is);
  for (const auto& [header, value] : section.headers) {
    const yaml::Node where = p.get("headers");
    if (!is_header_token(header)) {
      ctx.error(where, "header '" + header + "' of mnp." + name + " is not a valid header name");
    } else if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      ctx.error(where, "the value of header '" + header + "' of mnp." + name +
                           " may not hold a line break");
    }
  }
  read(p, "timeout", section.timeout);
  if (p.has("timeout") && (section.timeout <= Duration(0) || section.timeout > 60s))
    ctx.error(p.get("timeout"), "'timeout' of mnp." + name + " must be between 1ms and 60s");
  read_u32(p, "max_concurrent", section.max_concurrent, 1);
  if (section.max_concurrent > 1000)
    ctx.error(p.get("max_concurrent"), "'max_concurrent' of mnp." + name + " must be at most 1000");
  if (name == "custom") {
    read_enum(p, "method", section.method, Names<std::string>{{"GET", "GET"}, {"POST", "POST"}});
    read(p, "body", section.body, true);  // {number} is smppd's placeholder, not a variable
    if (!section.body.empty() && section.method != "POST")
      ctx.error(p.get("body"), "'body' of mnp.custom needs method: POST");
    Map f(p, "fields", "mnp.custom.fields");
    auto path = [&](const std::string& key, std::string& out) {
      read(f, key, out);
      if (out.empty()) return;
      const Parsed<JsonPath> parsed = parse_json_path(out);
      if (const auto* e = std::get_if<Invalid>(&parsed))
        ctx.error(f.get(key), "'" + key + "' in mnp.custom.fields: " + e->reason);
    };
    path("mcc", section.fields.mcc);
    path("mnc", section.fields.mnc);
    path("mccmnc", section.fields.mccmnc);
    path("ported", section.fields.ported);
    if (p.valid()) {
      const bool split = !section.fields.mcc.empty() || !section.fields.mnc.empty();
      if (split && !section.fields.mccmnc.empty()) {
        ctx.error(f.get("mccmnc"), "mnp.custom.fields: write mcc and mnc, or mccmnc, not both");
      } else if (split ? section.fields.mcc.empty() || section.fields.mnc.empty()
                       : section.fields.mccmnc.empty()) {
        ctx.error(f.valid() ? f.node() : p.node(),
                  "mnp.custom needs fields.mcc and fields.mnc, or fields.mccmnc: where its "
                  "answer names the network");
      }
      if (!section.url.empty() && !mentions_number(section.url) && !mentions_number(section.body)) {
        ctx.error(p.get("url"),
                  "mnp.custom sends the number nowhere: write {number} (the digits) or {e164} "
                  "(with '+') in its url or body");
      }
    }
  }
  if (!selected) return;
  mnp.url = std::move(section.url);
  mnp.api_key = std::move(section.api_key);
  mnp.headers = std::move(section.headers);
  mnp.timeout = section.timeout;
  mnp.max_concurrent = section.max_concurrent;
  mnp.method = std::move(section.method);
  mnp.body = std::move(section.body);
  mnp.fields = std::move(section.fields);
}

void read_mnp(Context& ctx, const yaml::Node& node, KeyScope keys, MnpConfig& mnp) {
  Map m(ctx, node, "mnp", keys);
  read_enabled(m, mnp.enabled);
  const std::size_t errors = ctx.errors.size();
  read_enum(m, "provider", mnp.provider,
            Names<MnpProvider>{{"xconnect", MnpProvider::xconnect},
                               {"hlr_lookup", MnpProvider::hlr_lookup},
                               {"custom", MnpProvider::custom}});
  const bool provider_known = ctx.errors.size() == errors;
  const std::pair<std::string, MnpProvider> providers[] = {{"xconnect", MnpProvider::xconnect},
                                                           {"hlr_lookup", MnpProvider::hlr_lookup},
                                                           {"custom", MnpProvider::custom}};
  std::string selected_name;
  for (const auto& [name, provider] : providers) {
    read_mnp_provider(m, name, mnp.provider == provider, mnp);
    if (mnp.provider == provider) selected_name = name;
  }
  Map c(m, "cache", "mnp.cache");
  read(c, "enabled", mnp.cache_enabled);
  read(c, "ttl", mnp.cache_ttl);
  read(c, "negative_ttl", mnp.cache_negative_ttl);
  read_int(c, "max_size", mnp.cache_max_size, 0, 1000000000);
  if (mnp.cache_enabled) {
    if (mnp.cache_ttl <= Duration(0) || mnp.cache_ttl > 365 * 24h)
      ctx.error(c.has("ttl") ? c.get("ttl") : c.node(),
                "mnp.cache: ttl must be more than 0 and at most 365d (to keep nothing: enabled: "
                "false)");
    if (mnp.cache_negative_ttl > 24h)
      ctx.error(c.get("negative_ttl"), "mnp.cache: negative_ttl must be at most 1d");
    if (mnp.cache_max_size == 0)
      ctx.error(c.get("max_size"),
                "mnp.cache: max_size must be at least 1 (to keep nothing: enabled: false)");
  }
  if (mnp.enabled && mnp.url.empty() && provider_known) {
    ctx.error(m.node(), "mnp needs 'url' in the section of its provider, mnp." + selected_name);
  }
}

std::shared_ptr<Config> build(Context& ctx, const yaml::Node& root) {
  auto c = std::make_shared<Config>();
  c->source = ctx.file;
  if (!root.IsDefined() || root.IsNull()) {
    ctx.error(yaml::Mark(), "the configuration is empty (it needs at least 'listeners')");
    return c;
  }
  Map top(ctx, root, "the configuration", KeyScope{&key_tree(), false});
  if (!top.valid()) return c;
  References refs;
  std::vector<NamedNode> listener_names, upstream_names, route_names, mo_route_names, client_names;

  // Each list is reserved whole: growing a vector of 100,000 routes by doubling held both copies.
  c->routes.reserve(top.get("routes").size());
  c->clients.reserve(top.get("clients").size());
  const yaml::Node listeners = top.require("listeners");
  for_each_item(ctx, listeners, "listeners", [&](const yaml::Node& n, std::size_t i) {
    c->listeners.push_back(read_listener(ctx, n, i, top.scope("listeners"), listener_names));
  });
  if (listeners.IsSequence() && listeners.size() == 0) ctx.error(listeners, "'listeners' is empty");
  for_each_item(ctx, top.get("upstreams"), "upstreams", [&](const yaml::Node& n, std::size_t i) {
    c->upstreams.push_back(read_upstream(ctx, n, i, top.scope("upstreams"), refs, upstream_names));
  });
  for_each_item(ctx, top.get("routes"), "routes", [&](const yaml::Node& n, std::size_t i) {
    c->routes.push_back(read_route(ctx, n, i, top.scope("routes"), refs, route_names));
  });
  for_each_item(ctx, top.get("mo_routes"), "mo_routes", [&](const yaml::Node& n, std::size_t i) {
    c->mo_routes.push_back(read_mo_route(ctx, n, i, top.scope("mo_routes"), refs, mo_route_names));
  });
  std::vector<NamedNode> api_keys;
  for_each_item(ctx, top.get("clients"), "clients", [&](const yaml::Node& n, std::size_t i) {
    c->clients.push_back(
        read_client(ctx, n, i, top.scope("clients"), refs, client_names, api_keys));
  });
  {
    std::unordered_map<std::string_view, const yaml::Node*> seen;
    for (const auto& k : api_keys) {
      auto [it, inserted] = seen.emplace(k.name, &k.where);
      if (!inserted) {
        ctx.error(k.where, "an api_key is given twice (first at line " +
                               std::to_string(it->second->Mark().line + 1) +
                               "): each key names one client");
      }
    }
  }
  read_auth(ctx, top.get("auth"), top.scope("auth"), refs, c->auth);
  for_each_item(ctx, top.get("middleware"), "middleware", [&](const yaml::Node& n, std::size_t i) {
    c->middleware.push_back(read_middleware(ctx, n, i, top.scope("middleware")));
  });
  read_multipart(ctx, top.get("multipart"), top.scope("multipart"), c->multipart);
  read_storage(ctx, top.get("storage"), top.scope("storage"), c->storage);
  read_observability(ctx, top, *c);
  read_cluster(ctx, top.get("cluster"), top.scope("cluster"), c->cluster);
  read_management(ctx, top.get("management"), top.scope("management"), c->management);
  read_mnp(ctx, top.get("mnp"), top.scope("mnp"), c->mnp);
  if (!c->mnp.enabled) {
    // Such a route could never match: an error, not a route that silently takes nothing.
    for (const auto& route : refs.mnp_routes) {
      ctx.error(route.where, "route '" + route.route + "' matches " + route.key +
                                 " but mnp is not enabled (mnp.enabled: true with a provider)");
    }
  }

  check_unique(ctx, listener_names, "listener name");
  check_unique(ctx, upstream_names, "upstream name");
  check_unique(ctx, route_names, "route name");
  check_unique(ctx, mo_route_names, "mo_route name");
  check_unique(ctx, client_names, "client system_id");

  auto names_of = [](const std::vector<NamedNode>& items) {
    std::vector<std::string> out;
    for (const auto& i : items) out.push_back(i.name);
    return out;
  };
  auto check_refs = [&](const NameUses& refs_of_kind, const std::vector<NamedNode>& defined,
                        const std::string& kind) {
    std::unordered_set<std::string_view> defined_names;
    defined_names.reserve(defined.size());
    for (const auto& d : defined) defined_names.insert(d.name);
    refs_of_kind.for_each([&](const std::string& name, const std::vector<yaml::Node>& uses) {
      if (defined_names.contains(name)) return;
      const auto known = names_of(defined);
      std::string message = "unknown " + kind + " '" + name + "'";
      if (auto guess = closest_match(name, known))
        message += "; did you mean '" + *guess + "'?";
      else if (known.empty())
        message += " (no " + kind + "s are defined)";
      for (const auto& where : uses) ctx.error(where, message);
    });
  };
  check_refs(refs.upstreams, upstream_names, "upstream");
  // With external authentication, a route may name a client that only a backend knows.
  if (!c->auth.any()) check_refs(refs.clients, client_names, "client");

  // Two listeners cannot share a port on overlapping addresses.
  for (std::size_t i = 0; i < c->listeners.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      const auto& a = c->listeners[i].address;
      const auto& b = c->listeners[j].address;
      if (a.port != 0 && a.port == b.port &&
          (a.host == b.host || a.host.empty() || b.host.empty())) {
        ctx.error(listeners.item(i).find("address"),
                  "listener '" + c->listeners[i].name + "' uses port " + std::to_string(a.port) +
                      " of listener '" + c->listeners[j].name + "'");
      }
    }
  }
  return c;
}

LoadResult finish(Context& ctx, std::shared_ptr<Config> config) {
  LoadResult result;
  std::stable_sort(ctx.errors.begin(), ctx.errors.end(),
                   [](const ConfigError& a, const ConfigError& b) {
                     return std::pair(a.line, a.column) < std::pair(b.line, b.column);
                   });
  result.errors = std::move(ctx.errors);
  std::stable_sort(ctx.warnings.begin(), ctx.warnings.end(),
                   [](const ConfigError& a, const ConfigError& b) {
                     return std::pair(a.line, a.column) < std::pair(b.line, b.column);
                   });
  result.warnings = std::move(ctx.warnings);
  if (result.errors.empty()) result.config = std::move(config);
  return result;
}

}  // namespace

LoadResult load_config_string(std::string_view yaml, std::string name, const EnvLookup& env,
                              LoadOptions options, ScriptCheck check_script) {
  Context ctx;
  ctx.file = std::move(name);
  ctx.env = &env;
  ctx.audit = options.audit;
  const auto document = yaml::Document::parse(yaml);
  if (const yaml::ParseError* e = document->error()) {
    ctx.error(e->mark, "invalid YAML: " + e->message);
    return finish(ctx, nullptr);
  }
  std::shared_ptr<Config> config = build(ctx, document->root());
  if (options.check_files) {
    for (auto& e : check_named_files(ctx.files, ctx.file, check_script)) {
      ctx.errors.push_back(std::move(e));
    }
  }
  return finish(ctx, std::move(config));
}

LoadResult load_config_file(const std::filesystem::path& path, const EnvLookup& env,
                            LoadOptions options, ScriptCheck check_script) {
  std::string text;
  if (std::string problem = read_regular_file(path, kMaxConfigFileBytes, text); !problem.empty()) {
    LoadResult r;
    r.errors.push_back({path.string(), 0, 0, "the configuration file " + problem});
    return r;
  }
  return load_config_string(text, path.string(), env, options, check_script);
}

}  // namespace smppd::config
