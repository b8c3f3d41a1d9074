#include "config/keys.hpp"

#include <stdexcept>
#include <string>

namespace smppd::config {

namespace {

constexpr KeyUse used = KeyUse::used;
constexpr KeyUse section = KeyUse::section;
constexpr KeyUse not_built = KeyUse::not_built;

// Keep in the loader's order. docs/configuration.md ("What each key does") lists the same.
constexpr KeySpec kSpecs[] = {
    // ---- listeners ----
    {"listeners", section, "", ""},
    {"listeners[].type", used, "server", "l.type"},
    {"listeners[].name", used, "server", "config_.name"},
    {"listeners[].address", used, "server", "config_.address"},
    {"listeners[].tls", section, "", ""},
    {"listeners[].tls.enabled", used, "server", "config.tls.enabled"},
    {"listeners[].tls.cert", used, "net", "tls.cert"},
    {"listeners[].tls.key", used, "net", "tls.key"},
    {"listeners[].tls.ca", used, "net", "tls.ca"},
    {"listeners[].tls.min_version", used, "net", "tls.min_version"},
    {"listeners[].tls.max_version", used, "net", "tls.max_version"},
    {"listeners[].tls.cipher_suites", used, "net", "tls.cipher_suites"},
    {"listeners[].tls.client_auth", used, "net", "tls.client_auth"},
    {"listeners[].max_connections", used, "limits", "listener.max_connections"},
    {"listeners[].max_connections_per_ip", used, "limits", "listener.max_connections_per_ip"},
    {"listeners[].max_connections_per_client", used, "limits",
     "listener.max_connections_per_client"},
    {"listeners[].max_unbound_connections", used, "limits", "listener.max_unbound_connections"},
    {"listeners[].max_unbound_connections_per_ip", used, "limits",
     "max_unbound_connections_per_ip"},
    {"listeners[].bind_failure_status", used, "server", "bind_failure_status"},
    {"listeners[].timeouts", section, "", ""},
    {"listeners[].timeouts.read", used, "server", "c.timeouts.read"},
    {"listeners[].timeouts.write", used, "server", "c.timeouts.write"},
    {"listeners[].timeouts.idle", used, "server", "c.timeouts.idle"},
    {"listeners[].timeouts.bind", used, "server", "c.timeouts.bind"},
    {"listeners[].timeouts.response", used, "server", "c.timeouts.response"},
    {"listeners[].smpp", section, "", ""},
    {"listeners[].smpp.versions", used, "server", "c.smpp.versions"},
    {"listeners[].smpp.auto_negotiate", used, "server", "c.smpp.auto_negotiate"},
    {"listeners[].smpp.enquire_link_interval", used, "server", "c.smpp.enquire_link_interval"},
    {"listeners[].smpp.enquire_link_timeout", used, "server", "c.smpp.enquire_link_timeout"},
    {"listeners[].smpp.window_size", used, "server", "c.smpp.window_size"},
    {"listeners[].rate_limit", section, "", ""},
    {"listeners[].rate_limit.connections_per_second", used, "limits",
     "limit.connections_per_second"},
    {"listeners[].rate_limit.binds_per_second", used, "limits", "limit.binds_per_second"},
    {"listeners[].rate_limit.requests_per_second", used, "api/rest",
     "rate_limit.requests_per_second"},
    {"listeners[].rate_limit.burst", used, "limits", "limit.burst"},
    {"listeners[].allowed_ips", used, "limits", "listener.allowed_ips"},
    {"listeners[].blocked_ips", used, "limits", "listener.blocked_ips"},
    {"listeners[].http", section, "", ""},
    {"listeners[].http.read_timeout", used, "server", "http.read_timeout"},
    {"listeners[].http.write_timeout", used, "server", "http.write_timeout"},
    {"listeners[].http.idle_timeout", used, "server", "http.idle_timeout"},
    {"listeners[].http.max_header_bytes", used, "server", "http.max_header_bytes"},
    {"listeners[].http.max_body_bytes", used, "server", "http.max_body_bytes"},
    {"listeners[].compat", used, "api/rest", "compat"},
    {"listeners[].cors", section, "", ""},
    {"listeners[].cors.enabled", used, "api/rest", "cors.enabled"},
    {"listeners[].cors.allowed_origins", used, "api/rest", "cors.allowed_origins"},
    {"listeners[].cors.allowed_methods", used, "api/rest", "cors.allowed_methods"},
    {"listeners[].cors.allowed_headers", used, "api/rest", "cors.allowed_headers"},
    {"listeners[].grpc", not_built, "", "gRPC listeners are not built"},

    // ---- upstreams ----
    {"upstreams", section, "", ""},
    {"upstreams[].name", used, "upstream", "config_.name"},
    {"upstreams[].type", used, "server", "u.type"},
    {"upstreams[].hosts", section, "", ""},
    {"upstreams[].hosts[].address", used, "upstream", "hosts_[host_].address"},
    {"upstreams[].hosts[].weight", used, "upstream", "h.weight"},
    {"upstreams[].hosts[].priority", used, "upstream", "h.priority"},
    {"upstreams[].hosts[].cost", used, "upstream", "h.cost"},
    {"upstreams[].bind", section, "", ""},
    {"upstreams[].bind.system_id", used, "upstream", "b.system_id"},
    {"upstreams[].bind.password", used, "upstream", "b.password"},
    {"upstreams[].bind.system_type", used, "upstream", "b.system_type"},
    {"upstreams[].bind.type", used, "upstream", "b.type"},
    {"upstreams[].bind.version", used, "upstream", "bind.version"},
    {"upstreams[].bind.interface_version", used, "upstream", "b.interface_version"},
    {"upstreams[].bind.addr_ton", used, "upstream", "b.addr_ton"},
    {"upstreams[].bind.addr_npi", used, "upstream", "b.addr_npi"},
    {"upstreams[].bind.address_range", used, "upstream", "b.address_range"},
    {"upstreams[].tls", section, "", ""},
    {"upstreams[].tls.enabled", used, "upstream", "config_.tls.enabled"},
    {"upstreams[].tls.cert", used, "net", "tls.cert"},
    {"upstreams[].tls.key", used, "net", "tls.key"},
    {"upstreams[].tls.ca", used, "net", "tls.ca"},
    {"upstreams[].tls.min_version", used, "net", "tls.min_version"},
    {"upstreams[].tls.max_version", used, "net", "tls.max_version"},
    {"upstreams[].tls.cipher_suites", used, "net", "tls.cipher_suites"},
    {"upstreams[].tls.skip_verify", used, "net", "skip_verify"},
    {"upstreams[].tls.server_name", used, "net", "server_name"},
    {"upstreams[].pool", section, "", ""},
    {"upstreams[].pool.min_connections", used, "upstream", "pool.min_connections"},
    {"upstreams[].pool.max_connections", used, "upstream", "pool.max_connections"},
    {"upstreams[].pool.idle_timeout", used, "upstream", "pool.idle_timeout"},
    {"upstreams[].pool.max_lifetime", used, "upstream", "pool.max_lifetime"},
    {"upstreams[].timeouts", section, "", ""},
    {"upstreams[].timeouts.connect", used, "upstream", "timeouts.connect"},
    {"upstreams[].timeouts.bind", used, "upstream", "c.timeouts.bind"},
    {"upstreams[].timeouts.submit", not_built, "",
     "a session has one response timeout for every request: timeouts.response applies"},
    {"upstreams[].timeouts.response", used, "upstream", "timeouts.response"},
    // The loader takes it for enquire_link.timeout when that is not written.
    {"upstreams[].timeouts.enquire_link", used, "upstream", "c.enquire_link.timeout"},
    {"upstreams[].timeouts.read", used, "upstream", "c.timeouts.read"},
    {"upstreams[].timeouts.write", used, "upstream", "c.timeouts.write"},
    {"upstreams[].health", section, "", ""},
    {"upstreams[].health.enabled", used, "upstream", "health.enabled"},
    {"upstreams[].health.type", used, "upstream", "health.type"},
    {"upstreams[].health.interval", used, "upstream", "health.interval"},
    {"upstreams[].health.timeout", used, "upstream", "health.timeout"},
    {"upstreams[].health.threshold", used, "upstream", "config.threshold"},
    {"upstreams[].health.recovery_threshold", used, "upstream", "config.recovery_threshold"},
    {"upstreams[].load_balancing", section, "", ""},
    {"upstreams[].load_balancing.algorithm", used, "upstream", "config.load_balancing"},
    {"upstreams[].retry", section, "", ""},
    {"upstreams[].retry.enabled", used, "upstream", "r.enabled"},
    {"upstreams[].retry.max_attempts", used, "upstream", "r.max_attempts"},
    {"upstreams[].retry.delay", used, "upstream", "r.delay"},
    {"upstreams[].retry.max_delay", used, "upstream", "retry.max_delay"},
    {"upstreams[].retry.backoff", used, "upstream", "r.backoff"},
    {"upstreams[].retry.backoff_factor", used, "upstream", "r.backoff_factor"},
    {"upstreams[].retry.retryable_errors", used, "upstream", "r.retryable_errors"},
    {"upstreams[].rate_limit", section, "", ""},
    {"upstreams[].rate_limit.messages_per_second", used, "upstream",
     "rate_limit.messages_per_second"},
    {"upstreams[].rate_limit.burst", used, "upstream", "rate_limit.burst"},
    {"upstreams[].window", section, "", ""},
    {"upstreams[].window.size", used, "upstream", "window.size"},
    {"upstreams[].window.timeout", used, "upstream", "window.timeout"},
    {"upstreams[].enquire_link", section, "", ""},
    {"upstreams[].enquire_link.interval", used, "upstream", "c.enquire_link.interval"},
    {"upstreams[].enquire_link.timeout", used, "upstream", "c.enquire_link.timeout"},
    {"upstreams[].protocol", section, "", ""},
    // The loader takes it for bind.version when that is not written.
    {"upstreams[].protocol.version", used, "upstream", "bind.version"},
    {"upstreams[].protocol.auto_respond_enquire", not_built, "",
     "smppd always answers an SMSC's enquire_link"},
    {"upstreams[].protocol.auto_respond_unbind", not_built, "",
     "smppd always answers an SMSC's unbind"},
    {"upstreams[].message", section, "", ""},
    {"upstreams[].message.max_length", used, "upstream", "message.max_length"},
    {"upstreams[].message.default_encoding", not_built, "",
     "no defaults are applied to messages towards the SMSC yet"},
    {"upstreams[].message.default_registered_delivery", not_built, "",
     "no defaults are applied to messages towards the SMSC yet"},
    {"upstreams[].message.default_service_type", not_built, "",
     "no defaults are applied to messages towards the SMSC yet"},
    {"upstreams[].message.default_source_addr_ton", not_built, "",
     "no defaults are applied to messages towards the SMSC yet"},
    {"upstreams[].message.default_source_addr_npi", not_built, "",
     "no defaults are applied to messages towards the SMSC yet"},
    {"upstreams[].failover", section, "", ""},
    {"upstreams[].failover.enabled", used, "upstream", "failover.enabled"},
    {"upstreams[].failover.threshold", used, "upstream", "failover.threshold"},
    {"upstreams[].failover.recovery_time", used, "upstream", "failover.recovery_time"},
    {"upstreams[].failover.fallback", used, "gateway", "failover.fallback"},
    {"upstreams[].tags", used, "gateway", "u.tags"},
    {"upstreams[].simulator", section, "", ""},
    {"upstreams[].simulator.receipt_delay", used, "sim", "receipt_delay"},
    {"upstreams[].simulator.outcomes", section, "", ""},
    {"upstreams[].simulator.outcomes.delivered", used, "sim", "config.delivered"},
    {"upstreams[].simulator.outcomes.undeliverable", used, "sim", "config.undeliverable"},
    {"upstreams[].simulator.outcomes.expired", used, "sim", "config.expired"},
    {"upstreams[].simulator.throttle_rate", used, "sim", "config.throttle_rate"},
    {"upstreams[].simulator.error_rate", used, "sim", "config.error_rate"},
    {"upstreams[].simulator.mo_interval", used, "sim", "mo_interval"},

    // ---- routes and mo_routes ----
    {"routes", section, "", ""},
    {"routes[].name", used, "router", "rc.name"},
    {"routes[].match", section, "", ""},
    {"routes[].match.destination_addr", used, "router", "match.destination_addr"},
    {"routes[].match.source_addr", used, "router", "match.source_addr"},
    {"routes[].match.service_type", used, "router", "match.service_type"},
    {"routes[].match.client", used, "router", "match.client"},
    {"routes[].match.source_addr_ton", used, "router", "match.source_addr_ton"},
    {"routes[].match.schedule", section, "", ""},
    {"routes[].match.schedule.hours", used, "router", "s.start_minute"},
    {"routes[].match.schedule.timezone", used, "router", "s.timezone"},
    {"routes[].match.mcc", used, "router", "match.mcc"},
    {"routes[].match.mnc", used, "router", "match.mnc"},
    {"routes[].match.is_ported", used, "router", "match.is_ported"},
    {"routes[].upstream", used, "router", "rc.upstream"},
    {"routes[].failover", used, "router", "rc.failover"},
    {"routes[].script", used, "router", "rc.script"},
    {"mo_routes", section, "", ""},
    {"mo_routes[].name", used, "router", "name"},
    {"mo_routes[].match", section, "", ""},
    {"mo_routes[].match.destination_addr", used, "router", "match.destination_addr"},
    {"mo_routes[].match.source_addr", used, "router", "match.source_addr"},
    {"mo_routes[].match.upstream", used, "router", "match.upstream"},
    {"mo_routes[].client", used, "router", "client"},

    // ---- clients ----
    {"clients", section, "", ""},
    {"clients[].system_id", used, "auth", "client.system_id"},
    {"clients[].password", used, "auth", "client.password"},
    {"clients[].allowed_ips", used, "auth", "client.allowed_ips"},
    {"clients[].bind_types", used, "auth", "client.bind_types"},
    {"clients[].max_connections", used, "server", "client->max_connections"},
    {"clients[].rate_limit", used, "gateway", "rate_limit.messages_per_second"},
    {"clients[].rate_limit.messages_per_second", used, "gateway",
     "rate_limit.messages_per_second"},
    {"clients[].rate_limit.burst", used, "gateway", "rate_limit.burst"},
    {"clients[].rate_limit.window_size", used, "gateway", "rate_limit.window_size"},
    {"clients[].addresses", section, "", ""},
    {"clients[].addresses.source", section, "", ""},
    {"clients[].addresses.source.allowed", used, "middleware", "source_addresses.allowed"},
    {"clients[].addresses.source.blocked", used, "middleware", "source_addresses.blocked"},
    {"clients[].addresses.destination", section, "", ""},
    {"clients[].addresses.destination.allowed", used, "middleware",
     "destination_addresses.allowed"},
    {"clients[].addresses.destination.blocked", used, "middleware",
     "destination_addresses.blocked"},
    {"clients[].upstream", used, "router", "c.upstream"},
    {"clients[].api_keys", used, "auth", "client.api_keys"},
    {"clients[].callbacks", section, "", ""},
    {"clients[].callbacks.receipt_url", used, "api/callbacks", "settings.receipt_url"},
    {"clients[].callbacks.mo_url", used, "api/callbacks", "settings.mo_url"},
    {"clients[].callbacks.secret", used, "api/callbacks", "settings.secret"},
    {"clients[].callbacks.timeout", used, "api/callbacks", "settings.timeout"},
    {"clients[].callbacks.retry_for", used, "api/callbacks", "settings.retry_for"},
    {"clients[].callbacks.max_concurrent", used, "api/callbacks", "settings.max_concurrent"},
    {"clients[].callbacks.allow_private_networks", used, "api/callbacks",
     "settings.allow_private_networks"},
    {"clients[].tier", used, "gateway", "client.tier"},
    {"clients[].tags", used, "gateway", "client.tags"},

    // ---- sections whose feature is not built ----
    {"auth", not_built, "",
     "LDAP, RADIUS and HTTP authentication are not built; binds are checked against 'clients'"},
    {"middleware", section, "", ""},
    {"middleware[].type", used, "middleware", "m.type"},
    {"middleware[].level", used, "middleware", "m.level"},
    {"middleware[].rules", section, "", ""},
    {"middleware[].rules[].match", used, "middleware", "rule.match"},
    {"middleware[].rules[].set", used, "middleware", "rule.set"},
    {"middleware[].rules[].transform", used, "middleware", "rule.transform"},
    {"middleware[].version_mapping", used, "middleware", "m.version_mapping"},
    {"middleware[].prometheus", not_built, "", "metrics are always exposed (metrics section)"},
    {"multipart", section, "", ""},
    {"multipart.reassembly", section, "", ""},
    {"multipart.reassembly.enabled", used, "gateway", "multipart.reassembly_enabled"},
    {"multipart.reassembly.timeout", used, "gateway", "c.reassembly_timeout"},
    {"multipart.reassembly.max_parts", used, "gateway", "c.reassembly_max_parts"},
    {"multipart.reassembly.buffer_size", used, "gateway", "c.reassembly_buffer_size"},
    {"multipart.segmentation", section, "", ""},
    {"multipart.segmentation.enabled", used, "upstream", "mp.segmentation_enabled"},
    {"multipart.segmentation.method", used, "upstream", "mp.segmentation_method"},
    {"multipart.segmentation.max_parts", used, "upstream", "mp.segmentation_max_parts"},
    {"multipart.reference", section, "", ""},
    {"multipart.reference.mode", used, "upstream", "reference_mode"},
    // ---- storage ----
    {"storage", section, "", ""},
    {"storage.enabled", used, "server", "cfg.storage.enabled"},
    {"storage.backend", used, "server", "cfg.storage.backend"},
    {"storage.sqlite", section, "", ""},
    {"storage.sqlite.path", used, "server", "cfg.storage.sqlite_path"},
    {"storage.sqlite.journal_mode", used, "server", "cfg.storage.sqlite_journal_mode"},
    {"storage.submit_sm", section, "", ""},
    {"storage.submit_sm.enabled", not_built, "",
     "with storage on, every message is stored (store and forward); this switch is not read"},
    {"storage.submit_sm.retention", used, "gateway", "config_.submit_sm.retention"},
    {"storage.deliver_sm", section, "", ""},
    {"storage.deliver_sm.enabled", used, "gateway", "storage.deliver_sm.enabled"},
    {"storage.deliver_sm.retention", used, "gateway", "config_.deliver_sm.retention"},
    {"storage.cdr", section, "", ""},
    {"storage.cdr.enabled", used, "gateway", "config_.cdr_enabled"},
    {"storage.cdr.path", used, "store", "storage.cdr_path"},
    {"storage.cdr.format", used, "store", "storage.cdr_format"},
    {"storage.cdr.rotation", section, "", ""},
    {"storage.cdr.rotation.size", used, "store", "storage.cdr_rotation_size"},
    {"storage.cdr.rotation.time", used, "store", "storage.cdr_rotation_time"},
    // ---- metrics ----
    {"metrics", section, "", ""},
    {"metrics.enabled", used, "server", "cfg.metrics.enabled"},
    {"metrics.prometheus", section, "", ""},
    {"metrics.prometheus.enabled", used, "server", "metrics.prometheus_enabled"},
    {"metrics.prometheus.path", used, "server", "metrics.prometheus_path"},
    {"metrics.prometheus.port", used, "server", "metrics.prometheus_port"},
    {"metrics.prometheus.address", used, "server", "metrics.prometheus_address"},

    // ---- logging ----
    {"logging", section, "", ""},
    {"logging.level", used, "cli", "c.level"},
    {"logging.format", used, "cli", "c.format"},
    {"logging.output", used, "cli", "c.output"},
    {"logging.file", section, "", ""},
    {"logging.file.path", used, "cli", "c.file_path"},
    {"logging.file.rotation", section, "", ""},
    {"logging.file.rotation.size", used, "cli", "c.rotation_size"},
    {"logging.file.rotation.max_files", used, "cli", "c.rotation_max_files"},

    {"tracing", section, "", ""},
    {"tracing.enabled", used, "server", "cfg.tracing.enabled"},
    {"tracing.otlp", section, "", ""},
    {"tracing.otlp.endpoint", used, "tracing", "tracing.otlp"},
    {"tracing.sampling", section, "", ""},
    {"tracing.sampling.ratio", used, "server", "cfg.tracing.sampling_ratio"},
    {"tracing.jaeger", section, "", ""},
    {"tracing.jaeger.endpoint", not_built, "",
     "Jaeger takes OTLP natively (4317 gRPC, 4318 HTTP): smppd sends OTLP/HTTP to "
     "tracing.otlp.endpoint; point that at Jaeger, e.g. http://jaeger:4318"},
    {"cluster", not_built, "", "smppd runs as a single node"},
    // ---- management ----
    {"management", section, "", ""},
    {"management.enabled", used, "server", "cfg.management.enabled"},
    {"management.address", used, "server", "management.address"},
    {"management.tls", section, "", ""},
    {"management.tls.enabled", used, "server", "management.tls.enabled"},
    {"management.tls.cert", used, "net", "tls.cert"},
    {"management.tls.key", used, "net", "tls.key"},
    {"management.tls.ca", used, "net", "tls.ca"},
    {"management.tls.min_version", used, "net", "tls.min_version"},
    {"management.tls.max_version", used, "net", "tls.max_version"},
    {"management.tls.cipher_suites", used, "net", "tls.cipher_suites"},
    {"management.tls.client_auth", used, "net", "tls.client_auth"},
    {"management.auth", section, "", ""},
    {"management.auth.type", used, "server", "auth_type"},
    {"management.auth.username", used, "server", "username"},
    {"management.auth.password", used, "server", "password"},
    {"management.auth.token", used, "server", "token"},
    // ---- mnp (src/mnp: the lookup client and its cache, made by src/server for the routes
    // by mcc/mnc/is_ported above) ----
    {"mnp", section, "", ""},
    {"mnp.enabled", used, "server", "mnp.enabled"},
    {"mnp.provider", used, "mnp", "config_.provider"},
    {"mnp.xconnect", section, "", ""},
    {"mnp.xconnect.url", used, "mnp", "config_.url"},
    {"mnp.xconnect.api_key", used, "mnp", "config_.api_key"},
    {"mnp.xconnect.headers", used, "mnp", "config_.headers"},
    {"mnp.xconnect.timeout", used, "mnp", "config_.timeout"},
    {"mnp.xconnect.max_concurrent", used, "mnp", "config_.max_concurrent"},
    {"mnp.hlr_lookup", section, "", ""},
    {"mnp.hlr_lookup.url", used, "mnp", "config_.url"},
    {"mnp.hlr_lookup.api_key", used, "mnp", "config_.api_key"},
    {"mnp.hlr_lookup.headers", used, "mnp", "config_.headers"},
    {"mnp.hlr_lookup.timeout", used, "mnp", "config_.timeout"},
    {"mnp.hlr_lookup.max_concurrent", used, "mnp", "config_.max_concurrent"},
    {"mnp.custom", section, "", ""},
    {"mnp.custom.url", used, "mnp", "config_.url"},
    {"mnp.custom.api_key", used, "mnp", "config_.api_key"},
    {"mnp.custom.headers", used, "mnp", "config_.headers"},
    {"mnp.custom.timeout", used, "mnp", "config_.timeout"},
    {"mnp.custom.max_concurrent", used, "mnp", "config_.max_concurrent"},
    {"mnp.custom.method", used, "mnp", "config_.method"},
    {"mnp.custom.body", used, "mnp", "config_.body"},
    {"mnp.custom.fields", section, "", ""},
    {"mnp.custom.fields.mcc", used, "mnp", "fields.mcc"},
    {"mnp.custom.fields.mnc", used, "mnp", "fields.mnc"},
    {"mnp.custom.fields.mccmnc", used, "mnp", "fields.mccmnc"},
    {"mnp.custom.fields.ported", used, "mnp", "fields.ported"},
    {"mnp.cache", section, "", ""},
    {"mnp.cache.enabled", used, "mnp", "config_.cache_enabled"},
    {"mnp.cache.ttl", used, "mnp", "config_.cache_ttl"},
    {"mnp.cache.negative_ttl", used, "mnp", "config_.cache_negative_ttl"},
    {"mnp.cache.max_size", used, "mnp", "config_.cache_max_size"},
};

void insert(KeyNode& root, const KeySpec& spec) {
  KeyNode* node = &root;
  std::string_view rest = spec.path;
  while (!rest.empty()) {
    const auto dot = rest.find('.');
    std::string_view segment = rest.substr(0, dot);
    rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
    if (segment.ends_with("[]")) segment.remove_suffix(2);
    KeyNode* next = nullptr;
    for (auto& c : node->children) {
      if (c.name == segment) next = &c;
    }
    if (next == nullptr) {
      if (!rest.empty())
        throw std::logic_error("key spec before its section: " + std::string(spec.path));
      next = &node->children.emplace_back(KeyNode{segment, nullptr, {}});
    }
    node = next;
  }
  if (node->spec != nullptr) throw std::logic_error("key spec twice: " + std::string(spec.path));
  node->spec = &spec;
}

}  // namespace

std::span<const KeySpec> key_specs() {
  return kSpecs;
}

const KeyNode* KeyNode::child(std::string_view key) const {
  for (const auto& c : children) {
    if (c.name == key) return &c;
  }
  return nullptr;
}

const KeyNode& key_tree() {
  static const KeyNode root = [] {
    KeyNode r;
    for (const auto& spec : kSpecs) insert(r, spec);
    return r;
  }();
  return root;
}

}  // namespace smppd::config
