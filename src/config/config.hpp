// The daemon's configuration as typed, immutable values: built once by the loader (loader.hpp)
// from YAML, validated whole, then shared as std::shared_ptr<const Config>. A reload builds a new
// snapshot. Every default below is the value used when the key is absent.
//
// Sections with an `enabled` key (tls, failover, auth.*, storage, metrics, tracing, cluster,
// management, mnp, ...) are enabled when the section is present, unless it says `enabled: false`.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/values.hpp"
#include "smpp/version.hpp"

namespace smppd::config {

using Duration = std::chrono::milliseconds;
using namespace std::chrono_literals;

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = 1024 * kKiB;

// ---- shared pieces ----

enum class ClientAuth { none, request, require };
enum class BindType { transmitter, receiver, transceiver };

struct TlsConfig {
  bool enabled = false;  // true when a `tls:` section is present (unless enabled: false)
  std::string cert;
  std::string key;
  std::string ca;
  ClientAuth client_auth = ClientAuth::none;  // listeners only
  std::string min_version = "1.2";            // "1.0" ... "1.3"
  std::string max_version = "1.3";
  std::vector<std::string> cipher_suites;  // empty: the OpenSSL defaults
  bool skip_verify = false;                // upstreams only
  std::string server_name;                 // upstreams only (SNI); empty: the host name

  bool operator==(const TlsConfig&) const = default;
};

// ---- listeners ----

enum class ListenerType { smpp, http, grpc };

struct ListenerTimeouts {
  Duration read = 60s;
  Duration write = 30s;
  Duration idle = 5min;
  Duration bind = 30s;      // a session that does not bind within this is closed
  Duration response = 30s;  // for requests smppd sends to the peer

  bool operator==(const ListenerTimeouts&) const = default;
};

struct ListenerSmpp {
  std::vector<smpp::Version> versions = {smpp::Version::v33, smpp::Version::v34,
                                         smpp::Version::v50};
  bool auto_negotiate = true;
  Duration enquire_link_interval = 30s;
  Duration enquire_link_timeout = 10s;
  uint32_t window_size = 100;

  bool operator==(const ListenerSmpp&) const = default;
};

// 0 means unlimited.
struct ListenerRateLimit {
  double connections_per_second = 0;  // smpp
  double binds_per_second = 0;        // smpp
  double requests_per_second = 0;     // http, grpc
  uint32_t burst = 0;                 // 0: equal to the rate

  bool operator==(const ListenerRateLimit&) const = default;
};

struct HttpSettings {
  Duration read_timeout = 30s;
  Duration write_timeout = 30s;
  Duration idle_timeout = 120s;
  uint64_t max_header_bytes = 1 * kMiB;
  uint64_t max_body_bytes = 10 * kMiB;

  bool operator==(const HttpSettings&) const = default;
};

// Other gateways' HTTP APIs an http listener also serves, for applications written for them.
enum class HttpCompat : uint8_t { kannel, jasmin };

struct CorsConfig {
  bool enabled = false;
  std::vector<std::string> allowed_origins;
  std::vector<std::string> allowed_methods;
  std::vector<std::string> allowed_headers;

  bool operator==(const CorsConfig&) const = default;
};

struct GrpcSettings {
  uint64_t max_recv_msg_size = 4 * kMiB;
  uint64_t max_send_msg_size = 4 * kMiB;
  Duration keepalive_time = 30s;
  Duration keepalive_timeout = 10s;

  bool operator==(const GrpcSettings&) const = default;
};

// What a failed bind is answered with (smpp listeners). `specific`: ESME_RINVSYSID for an unknown
// system_id, ESME_RINVPASWD for a wrong password, ESME_RBINDFAIL otherwise. `uniform`:
// ESME_RBINDFAIL for every authentication failure, so that a peer cannot tell which system_ids
// exist (the log and the metric still give the real reason).
enum class BindFailureStatus { specific, uniform };

struct ListenerConfig {
  std::string name;  // default: "<type>-<index>"
  ListenerType type = ListenerType::smpp;
  HostPort address;  // port 0 lets the system pick (tests)
  TlsConfig tls;
  // Connection limits; 0: unlimited. "Per IP" is per IPv4 address or per IPv6 /64. A connection
  // is unbound from its accept until its bind succeeds: the unbound limits keep peers without
  // credentials (idle floods, password guessers) from holding the slots that clients bind in.
  uint32_t max_connections = 10000;
  uint32_t max_connections_per_ip = 100;
  uint32_t max_connections_per_client = 0;
  uint32_t max_unbound_connections = 1000;
  uint32_t max_unbound_connections_per_ip = 10;
  BindFailureStatus bind_failure_status = BindFailureStatus::specific;  // smpp
  ListenerTimeouts timeouts;
  ListenerSmpp smpp;  // type smpp
  ListenerRateLimit rate_limit;
  std::vector<Cidr> allowed_ips;  // empty: every address
  std::vector<Cidr> blocked_ips;  // checked before allowed_ips
  HttpSettings http;              // type http
  CorsConfig cors;                // type http
  std::vector<HttpCompat> compat;  // type http
  GrpcSettings grpc;              // type grpc

  bool operator==(const ListenerConfig&) const = default;
};

// ---- upstreams ----

enum class UpstreamType { smpp, simulator };
enum class HealthCheckType { tcp, enquire_link, submit };
enum class LoadBalancing {
  round_robin,
  least_connections,
  weighted_round_robin,
  random,
  ip_hash,
  latency,
  cost_based
};
enum class Backoff { fixed, exponential, linear };
enum class Encoding { gsm7, ucs2, latin1, ascii, binary };

struct HostConfig {
  HostPort address;
  uint32_t weight = 100;
  uint32_t priority = 1;  // lower is preferred; higher priorities are backups
  // Destination prefix -> price per message; "*" is the fallback price (cost_based balancing).
  std::map<std::string, double> cost;

  bool operator==(const HostConfig&) const = default;
};

struct UpstreamBind {
  std::string system_id;
  std::string password;
  std::string system_type;
  BindType type = BindType::transceiver;
  smpp::Version version = smpp::Version::v34;
  // `version` was written in the file: it then wins over an SMSC whose bind_resp announces no
  // sc_interface_version (which the spec says to take as 3.3, with no TLVs).
  bool version_given = false;
  std::optional<uint8_t> interface_version;  // default: that of `version`
  uint8_t addr_ton = 0;
  uint8_t addr_npi = 0;
  std::string address_range;

  bool operator==(const UpstreamBind&) const = default;
};

struct PoolConfig {
  uint32_t min_connections = 1;
  uint32_t max_connections = 10;
  Duration idle_timeout = 5min;
  Duration max_lifetime = 1h;

  bool operator==(const PoolConfig&) const = default;
};

struct UpstreamTimeouts {
  Duration connect = 10s;
  Duration bind = 30s;
  Duration submit = 30s;  // not built: `response` applies to submits too
  Duration response = 30s;
  Duration enquire_link = 10s;  // enquire_link.timeout when that is not written
  Duration read = 60s;
  Duration write = 30s;

  bool operator==(const UpstreamTimeouts&) const = default;
};

// Checks of each host of an upstream; what each type checks: upstream/health.hpp.
struct HealthConfig {
  bool enabled = true;
  HealthCheckType type = HealthCheckType::enquire_link;
  Duration interval = 30s;
  Duration timeout = 10s;
  uint32_t threshold = 3;           // failures before unhealthy
  uint32_t recovery_threshold = 2;  // successes before healthy again

  bool operator==(const HealthConfig&) const = default;
};

struct RetryConfig {
  bool enabled = true;
  uint32_t max_attempts = 3;
  Duration delay = 1s;
  Duration max_delay = 30s;
  Backoff backoff = Backoff::exponential;
  double backoff_factor = 2;
  std::vector<uint32_t> retryable_errors = {0x08, 0x58};  // ESME_RSYSERR, ESME_RTHROTTLED

  bool operator==(const RetryConfig&) const = default;
};

struct UpstreamRateLimit {
  double messages_per_second = 0;  // 0: unlimited
  uint32_t burst = 0;              // 0: equal to the rate

  bool operator==(const UpstreamRateLimit&) const = default;
};

struct WindowConfig {
  uint32_t size = 100;
  // How long a request may wait in the pool's queue for a connection able to take it (a free
  // window slot, a rate-limit token, a host up) before it fails unsent. 0: timeouts.response.
  Duration timeout = 0ms;

  bool operator==(const WindowConfig&) const = default;
};

struct EnquireLinkConfig {
  Duration interval = 30s;
  Duration timeout = 10s;

  bool operator==(const EnquireLinkConfig&) const = default;
};

struct ProtocolConfig {
  smpp::Version version = smpp::Version::v34;
  bool auto_respond_enquire = true;
  bool auto_respond_unbind = true;

  bool operator==(const ProtocolConfig&) const = default;
};

struct MessageConfig {
  // The longest text the SMSC takes in one submit_sm (in characters of its alphabet); longer
  // ones smppd cuts into parts (`multipart.segmentation`). Not written: messages go as they
  // come (message_payload included).
  std::optional<uint32_t> max_length;
  Encoding default_encoding = Encoding::gsm7;
  uint8_t default_registered_delivery = 0;
  std::string default_service_type;
  uint8_t default_source_addr_ton = 0;
  uint8_t default_source_addr_npi = 0;

  bool operator==(const MessageConfig&) const = default;
};

struct UpstreamFailover {
  bool enabled = false;
  uint32_t threshold = 3;  // consecutive failures
  Duration recovery_time = 60s;
  std::string fallback;  // an upstream name; empty: none

  bool operator==(const UpstreamFailover&) const = default;
};

// The built-in SMSC simulator (upstream `type: simulator`). Percentages are 0-100.
struct SimulatorConfig {
  Duration receipt_delay = 1s;
  uint32_t delivered = 100;  // outcomes: sum to 100
  uint32_t undeliverable = 0;
  uint32_t expired = 0;
  double throttle_rate = 0;    // % of submits answered ESME_RTHROTTLED
  double error_rate = 0;       // % of submits answered ESME_RSYSERR
  Duration mo_interval = 0ms;  // 0: no spontaneous MO messages

  bool operator==(const SimulatorConfig&) const = default;
};

struct UpstreamConfig {
  std::string name;
  UpstreamType type = UpstreamType::smpp;
  std::vector<HostConfig> hosts;  // required for type smpp
  UpstreamBind bind;
  TlsConfig tls;
  PoolConfig pool;
  UpstreamTimeouts timeouts;
  HealthConfig health;
  LoadBalancing load_balancing = LoadBalancing::round_robin;
  RetryConfig retry;
  UpstreamRateLimit rate_limit;
  WindowConfig window;
  EnquireLinkConfig enquire_link;
  ProtocolConfig protocol;
  MessageConfig message;
  UpstreamFailover failover;
  std::map<std::string, std::string> tags;
  SimulatorConfig simulator;  // type simulator

  bool operator==(const UpstreamConfig&) const = default;
};

// ---- routes ----

struct Schedule {
  std::string timezone = "UTC";
  std::string hours;          // "HH:MM-HH:MM" as written; may wrap midnight
  uint16_t start_minute = 0;  // minutes after midnight
  uint16_t end_minute = 0;

  bool operator==(const Schedule&) const = default;
};

// Every present condition must hold (AND). Address patterns: a prefix with a trailing '*', or
// "*" for any.
struct RouteMatch {
  std::optional<std::string> destination_addr;
  std::optional<std::string> source_addr;
  std::optional<std::string> service_type;
  std::optional<std::string> client;
  std::optional<uint8_t> source_addr_ton;
  // Rare: kept behind a pointer, so that 100,000 routes without one do not carry its room.
  std::shared_ptr<Schedule> schedule;
  // The number portability answer for the destination (mnp): its network's MCC (3 digits) and
  // MNC (2 or 3 digits, compared as written: "01" and "001" differ), whether it was ported.
  std::optional<std::string> mcc;
  std::optional<std::string> mnc;
  std::optional<bool> is_ported;

  // mcc, mnc or is_ported: routing needs an MNP lookup.
  bool uses_mnp() const { return mcc || mnc || is_ported; }

  // The schedules compared by value (each load makes its own).
  bool operator==(const RouteMatch& o) const {
    const bool same_schedule = (schedule == nullptr) == (o.schedule == nullptr) &&
                               (schedule == nullptr || *schedule == *o.schedule);
    return same_schedule && destination_addr == o.destination_addr &&
           source_addr == o.source_addr && service_type == o.service_type && client == o.client &&
           source_addr_ton == o.source_addr_ton && mcc == o.mcc && mnc == o.mnc &&
           is_ported == o.is_ported;
  }
};

struct RouteConfig {
  std::string name;  // default: "route-<index>"
  RouteMatch match;
  std::string upstream;  // an upstream name, or empty when `script` decides
  std::string failover;  // an upstream name; empty: none
  std::string script;    // a Lua file

  bool operator==(const RouteConfig&) const = default;
};

// Mobile-originated traffic (deliver_sm from an upstream) to a client.
struct MoRouteMatch {
  std::optional<std::string> destination_addr;
  std::optional<std::string> source_addr;
  std::optional<std::string> upstream;

  bool operator==(const MoRouteMatch&) const = default;
};

struct MoRouteConfig {
  std::string name;  // default: "mo-route-<index>"
  MoRouteMatch match;
  std::string client;  // a client system_id

  bool operator==(const MoRouteConfig&) const = default;
};

// ---- clients ----

struct ClientRateLimit {
  double messages_per_second = 0;  // 0: unlimited; across all the client's sessions
  uint32_t burst = 0;              // messages at once; 0: one second's worth
  uint32_t window_size = 0;        // its requests in flight across its sessions; 0: no bound

  bool operator==(const ClientRateLimit&) const = default;
};

// Receipts and MO a client takes by HTTP (api/callbacks).
struct ClientCallbacks {
  // Where receipts go as JSON for messages sent without a callback_url of their own; empty:
  // to the client's SMPP sessions.
  std::string receipt_url;
  // Where MO routed to the client goes as JSON; empty: to its SMPP sessions.
  std::string mo_url;
  // HMAC-SHA256 key of the X-Smppd-Signature header; empty: callbacks are not signed.
  std::string secret;
  Duration timeout = 10s;     // one attempt
  Duration retry_for = 1h;    // tried again with backoff (1 s doubling to 5 min) for this long
  uint32_t max_concurrent = 16;  // requests at once per receiving host
  // URLs the client gives with its messages (callback_url, Kannel's and Jasmin's dlr-url) may
  // reach loopback, private and link-local addresses; by default they may not (receipt_url and
  // mo_url, written by the operator, always may).
  bool allow_private_networks = false;

  bool operator==(const ClientCallbacks&) const = default;
};

struct AddressRule {
  std::vector<std::string> allowed;  // empty: every address
  std::vector<std::string> blocked;

  bool operator==(const AddressRule&) const = default;
};

struct ClientConfig {
  std::string system_id;
  std::string password;
  std::vector<Cidr> allowed_ips;  // empty: every address
  std::vector<BindType> bind_types = {BindType::transmitter, BindType::receiver,
                                      BindType::transceiver};
  uint32_t max_connections = 0;  // 0: unlimited
  ClientRateLimit rate_limit;    // `rate_limit: 1000` is messages_per_second
  AddressRule source_addresses;
  AddressRule destination_addresses;
  std::string upstream;  // forces this upstream; empty: routes decide
  // Bearer tokens that authenticate it on the HTTP API (beside Basic with system_id and
  // password); at least 16 characters each, unique across clients.
  std::vector<std::string> api_keys;
  ClientCallbacks callbacks;
  std::string tier;
  std::map<std::string, std::string> tags;

  bool operator==(const ClientConfig&) const = default;
};

// ---- auth ----
// External authentication (extauth/): a system_id that is not in `clients` is asked of these
// backends, in `order`. What a backend says about the client beyond yes or no is mapped onto
// ClientConfig's settings, over `defaults`.

enum class AuthBackend { ldap, radius, http };

// The client settings of an externally authenticated client where its backend says nothing.
struct ExternalDefaults {
  std::vector<Cidr> allowed_ips;  // empty: every address
  std::vector<BindType> bind_types = {BindType::transmitter, BindType::receiver,
                                      BindType::transceiver};
  uint32_t max_connections = 0;  // 0: unlimited
  ClientRateLimit rate_limit;
  std::string upstream;
  std::string tier;
  std::map<std::string, std::string> tags;

  bool operator==(const ExternalDefaults&) const = default;
};

// The LDAP attributes read from a client's entry (empty: not read).
struct LdapAttributes {
  std::string allowed_ips = "smppAllowedIp";
  std::string bind_types = "smppBindType";
  std::string rate_limit = "smppRateLimit";
  std::string window_size = "smppWindowSize";
  std::string max_connections = "smppMaxConnections";
  std::string upstream = "smppUpstream";
  std::string tier = "smppTier";
  std::string tags = "smppTag";  // "key=value", one per value

  bool operator==(const LdapAttributes&) const = default;
};

struct LdapAuth {
  bool enabled = false;
  std::string url;  // ldap:// or ldaps://; several, separated by spaces, are tried in turn
  bool start_tls = false;
  std::string ca_file;  // TLS: trust this CA (else the system's)
  std::string bind_dn;  // the search's identity; empty: an anonymous search
  std::string bind_password;
  std::string base_dn;
  std::string filter = "(uid={system_id})";  // {system_id} is escaped (RFC 4515)
  Duration timeout = 5s;
  Duration cache_ttl = 5min;
  uint32_t connections = 4;  // at once, each on its own thread
  LdapAttributes attributes;

  bool operator==(const LdapAuth&) const = default;
};

struct RadiusAuth {
  bool enabled = false;
  std::vector<HostPort> servers;  // `server` and `servers`, tried in this order
  std::string secret;
  Duration timeout = 3s;  // each try
  uint32_t retries = 1;   // tries per server after the first
  std::string nas_identifier = "smppd";
  // Vendor-Specific attributes of this vendor carry the client's settings (docs/auth.md); 0:
  // none are read.
  uint32_t vendor_id = 0;
  Duration cache_ttl = 5min;
  // Answers without a Message-Authenticator are refused (RFC 3579; Blast-RADIUS). Off by
  // default: servers before the 2024 fixes (FreeRADIUS 3.2.1 in Debian 12) send none.
  bool require_message_authenticator = false;

  bool operator==(const RadiusAuth&) const = default;
};

struct HttpAuth {
  bool enabled = false;
  std::string url;
  Duration timeout = 5s;
  Duration cache_ttl = 5min;
  std::string ca_file;  // https: trust this CA (else the system's)
  std::map<std::string, std::string> headers;  // added to each request (an API key...)

  bool operator==(const HttpAuth&) const = default;
};

struct AuthConfig {
  // Backends asked, in this order, for a system_id not in `clients`; only enabled ones.
  std::vector<AuthBackend> order = {AuthBackend::ldap, AuthBackend::radius, AuthBackend::http};
  Duration negative_ttl = 10s;  // a refusal is remembered this long (0: not)
  // When every backend asked failed (down, slow), an accept remembered up to this long past its
  // cache_ttl still admits the client; 0: never.
  Duration stale_ttl = 0s;
  std::size_t max_cached = 100000;
  ExternalDefaults defaults;
  LdapAuth ldap;
  RadiusAuth radius;
  HttpAuth http;

  bool any() const { return ldap.enabled || radius.enabled || http.enabled; }
  bool operator==(const AuthConfig&) const = default;
};

// ---- middleware ----

enum class MiddlewareType {
  logger,
  auth,
  rate_limit,
  address_filter,
  transform,
  protocol,
  metrics
};
enum class LogLevel { debug, info, warn, error };

// Field names of a message as used by transform rules (destination_addr, short_message, ...).
struct TransformRule {
  std::map<std::string, std::string> match;
  std::map<std::string, std::string> set;        // literal values
  std::map<std::string, std::string> transform;  // templates with ${field} placeholders

  bool operator==(const TransformRule&) const = default;
};

struct MiddlewareConfig {
  MiddlewareType type = MiddlewareType::logger;
  LogLevel level = LogLevel::info;                                       // logger
  std::vector<TransformRule> rules;                                      // transform
  std::vector<std::pair<smpp::Version, smpp::Version>> version_mapping;  // protocol: from -> to
  bool prometheus = true;                                                // metrics

  bool operator==(const MiddlewareConfig&) const = default;
};

// ---- multipart, storage, observability, cluster, management, mnp ----

enum class SegmentationMethod { udh, sar_tlv };
enum class ReferenceMode { preserve, regenerate, sequential };

struct MultipartConfig {
  bool reassembly_enabled = true;
  Duration reassembly_timeout = 5min;
  uint32_t reassembly_max_parts = 20;
  uint64_t reassembly_buffer_size = 100000;  // bytes held across all partial messages
  bool segmentation_enabled = true;
  SegmentationMethod segmentation_method = SegmentationMethod::udh;
  uint32_t segmentation_max_parts = 10;
  ReferenceMode reference_mode = ReferenceMode::regenerate;

  bool operator==(const MultipartConfig&) const = default;
};

enum class StorageBackend { sqlite, badger };
enum class CdrFormat { json, csv };

struct StoreSection {
  bool enabled = true;
  Duration retention;

  bool operator==(const StoreSection&) const = default;
};

struct StorageConfig {
  bool enabled = false;
  StorageBackend backend = StorageBackend::sqlite;
  std::string sqlite_path = "/var/lib/smppd/messages.db";
  std::string sqlite_journal_mode = "wal";
  StoreSection deliver_sm{true, 30 * 24h};
  StoreSection submit_sm{true, 7 * 24h};
  bool cdr_enabled = false;
  std::string cdr_path = "/var/log/smppd/cdr";
  CdrFormat cdr_format = CdrFormat::json;
  uint64_t cdr_rotation_size = 100 * kMiB;
  Duration cdr_rotation_time = 1h;

  bool operator==(const StorageConfig&) const = default;
};

struct MetricsConfig {
  bool enabled = false;
  bool prometheus_enabled = true;
  std::string prometheus_path = "/metrics";
  uint16_t prometheus_port = 9100;
  // Where the endpoint listens when written (port 0 lets the system pick; empty host: not
  // written): else every interface on `prometheus_port`.
  HostPort prometheus_address{"", 0};

  bool operator==(const MetricsConfig&) const = default;
};

enum class LogFormat { json, text };
enum class LogOutput { stdout_, stderr_, file };

struct LoggingConfig {
  LogLevel level = LogLevel::info;
  LogFormat format = LogFormat::text;
  LogOutput output = LogOutput::stdout_;
  std::string file_path;
  uint64_t rotation_size = 100 * kMiB;
  uint32_t rotation_max_files = 10;

  bool operator==(const LoggingConfig&) const = default;
};

// Where OTLP/HTTP spans are sent: http://host:port/path.
struct OtlpEndpoint {
  HostPort address{"localhost", 4318};  // 4318 is OTLP/HTTP's port (4317 is OTLP/gRPC's)
  std::string path = "/v1/traces";
  bool operator==(const OtlpEndpoint&) const = default;
};

struct TracingConfig {
  bool enabled = false;
  std::string otlp_endpoint;  // as written; empty: the default below
  OtlpEndpoint otlp;
  double sampling_ratio = 1.0;  // of new traces; a remote parent's decision is kept
  std::string jaeger_endpoint;  // not used: Jaeger takes OTLP (see the loader's warning)

  bool operator==(const TracingConfig&) const = default;
};

enum class DiscoveryMethod { kubernetes, consul, static_ };

struct ClusterConfig {
  bool enabled = false;
  std::string node_id;
  DiscoveryMethod discovery = DiscoveryMethod::static_;
  std::string kubernetes_namespace;
  std::string kubernetes_service;
  std::string consul_address;
  std::string consul_service;
  std::vector<HostPort> static_peers;
  bool sync_sessions = false;
  bool sync_messages = false;
  bool sync_config = false;
  // Redis (Debian's redis-server 7): where the nodes meet.
  HostPort redis_address{"127.0.0.1", 6379};
  std::string redis_username;  // Redis 6+ ACL user; empty: the default user
  std::string redis_password;  // empty: no AUTH
  int redis_db = 0;
  TlsConfig redis_tls;  // a client's: ca, cert/key (mutual TLS), skip_verify, server_name
  std::string key_prefix = "smppd";  // every key smppd writes starts with "<prefix>:"
  Duration redis_timeout = std::chrono::seconds(1);  // a command's answer, a connection's set-up
  // A node writes its heartbeat every heartbeat_interval; one not heard of for node_timeout
  // is gone.
  Duration heartbeat_interval = std::chrono::seconds(1);
  Duration node_timeout = std::chrono::seconds(5);

  bool operator==(const ClusterConfig&) const = default;
};

enum class ManagementAuthType { none, basic, bearer };

struct ManagementConfig {
  bool enabled = false;
  HostPort address{"127.0.0.1", 8081};
  ManagementAuthType auth_type = ManagementAuthType::none;
  std::string username;
  std::string password;
  std::string token;
  TlsConfig tls;  // HTTPS when enabled

  bool operator==(const ManagementConfig&) const = default;
};

enum class MnpProvider { xconnect, hlr_lookup, custom };

// Where the custom provider's JSON answer holds each value (JSON paths, values.hpp): mcc and mnc,
// or mccmnc (5 or 6 digits); ported may be left out (then no number reads as ported).
struct MnpFields {
  std::string mcc;
  std::string mnc;
  std::string mccmnc;
  std::string ported;

  bool operator==(const MnpFields&) const = default;
};

// Number portability lookups (src/mnp). Only the selected provider's section is kept: the
// others are checked, then dropped.
struct MnpConfig {
  bool enabled = false;
  MnpProvider provider = MnpProvider::xconnect;
  // The request. url (and a custom body) may hold {number} (the digits) and {e164} ('+' and the
  // digits); api_key goes as "Authorization: Bearer <api_key>"; headers are added as written.
  std::string url;
  std::string api_key;
  std::map<std::string, std::string> headers;
  Duration timeout = 2s;         // the whole lookup, waiting for a connection included
  uint32_t max_concurrent = 16;  // requests at a time to the provider; more wait in a queue
  std::string method = "GET";    // custom only: GET or POST
  std::string body;              // custom only (POST)
  MnpFields fields;              // custom only
  bool cache_enabled = true;
  Duration cache_ttl = 24h;
  // How long a failed lookup (answered "not ported") is remembered; 0: not at all.
  Duration cache_negative_ttl = 1min;
  uint64_t cache_max_size = 1000000;  // entries

  bool operator==(const MnpConfig&) const = default;
};

// ---- the whole ----

struct Config {
  std::string source;  // the file (or name) it was loaded from
  std::vector<ListenerConfig> listeners;
  std::vector<UpstreamConfig> upstreams;
  std::vector<RouteConfig> routes;
  std::vector<MoRouteConfig> mo_routes;
  std::vector<ClientConfig> clients;
  AuthConfig auth;
  std::vector<MiddlewareConfig> middleware;
  MultipartConfig multipart;
  StorageConfig storage;
  MetricsConfig metrics;
  LoggingConfig logging;
  TracingConfig tracing;
  ClusterConfig cluster;
  ManagementConfig management;
  MnpConfig mnp;

  const UpstreamConfig* find_upstream(std::string_view name) const;
  const ClientConfig* find_client(std::string_view system_id) const;
};

std::string_view to_string(ListenerType t);
std::string_view to_string(UpstreamType t);

}  // namespace smppd::config
