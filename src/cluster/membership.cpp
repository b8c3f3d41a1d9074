#include "cluster/membership.hpp"

#include <openssl/rand.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <algorithm>

#include "core/log.hpp"
#include "core/log_aggregate.hpp"

namespace smppd::cluster {

namespace asio = boost::asio;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

// Ids of nodes gone this long are dropped from the set.
constexpr auto kForgetGone = std::chrono::hours(1);
// Kubernetes: the service's addresses are looked up every this many heartbeats.
constexpr uint64_t kResolveEvery = 10;

std::string random_instance() {
  unsigned char b[8];
  RAND_bytes(b, sizeof b);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : b) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

std::string string_of(const json::object& o, std::string_view k) {
  const json::value* v = o.if_contains(k);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::optional<NodeInfo> parse_node(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const json::object& o = v.as_object();
  NodeInfo n;
  n.id = string_of(o, "id");
  n.instance = string_of(o, "instance");
  n.hostname = string_of(o, "hostname");
  n.address = string_of(o, "address");
  n.version = string_of(o, "version");
  n.revision = string_of(o, "revision");
  n.config_sha256 = string_of(o, "config_sha256");
  if (const json::value* s = o.if_contains("started_unix_ms"); s != nullptr && s->is_int64()) {
    n.started_unix_ms = s->as_int64();
  }
  if (const json::value* ss = o.if_contains("sessions"); ss != nullptr && ss->is_object()) {
    for (const auto& [client, count] : ss->as_object()) {
      if (count.is_int64() && count.as_int64() > 0) {
        n.sessions[std::string(client)] =
            static_cast<uint32_t>(std::min<int64_t>(count.as_int64(), UINT32_MAX));
      }
    }
  }
  if (const json::value* l = o.if_contains("listeners"); l != nullptr && l->is_array()) {
    for (const auto& e : l->as_array()) {
      if (e.is_string()) n.listeners.emplace_back(e.as_string());
    }
  }
  if (n.id.empty()) return std::nullopt;
  return n;
}

// The port of "name host:port".
std::optional<uint16_t> listener_port(const std::string& l) {
  const auto colon = l.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  try {
    return static_cast<uint16_t>(std::stoi(l.substr(colon + 1)));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

bool matches(const NodeInfo& n, const config::HostPort& peer) {
  if (peer.host != n.id && peer.host != n.hostname && peer.host != n.address) return false;
  if (peer.port == 0) return true;
  return std::any_of(n.listeners.begin(), n.listeners.end(),
                     [&](const std::string& l) { return listener_port(l) == peer.port; });
}

std::string peer_text(const config::HostPort& p) {
  return p.port == 0 ? p.host : p.host + ":" + std::to_string(p.port);
}

}  // namespace

MembershipOptions membership_options(const config::ClusterConfig& c) {
  MembershipOptions o;
  o.prefix = c.key_prefix;
  o.heartbeat = std::chrono::duration_cast<std::chrono::milliseconds>(c.heartbeat_interval);
  o.node_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(c.node_timeout);
  o.discovery = c.discovery;
  o.static_peers = c.static_peers;
  o.kubernetes_service = c.kubernetes_service;
  o.kubernetes_namespace = c.kubernetes_namespace;
  o.self.id = c.node_id;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0) o.self.hostname = host;
  return o;
}

Membership::Membership(const asio::any_io_executor& executor, std::shared_ptr<RedisClient> redis,
                       MembershipOptions options)
    : executor_(executor),
      redis_(std::move(redis)),
      options_(std::move(options)),
      timer_(executor),
      resolver_(executor) {
  options_.self.instance = random_instance();
  view_.redis_url = redis_->url();
  options_.self.self = true;
  if (options_.self.started_unix_ms == 0) {
    options_.self.started_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count();
  }
}

Membership::~Membership() = default;

void Membership::start() {
  asio::post(executor_, [self = shared_from_this()] { self->tick(); });
}

void Membership::set_config_sha256(std::string sha256) {
  asio::post(executor_, [self = shared_from_this(), sha256 = std::move(sha256)]() mutable {
    self->options_.self.config_sha256 = std::move(sha256);
  });
}

std::string Membership::key(const std::string& id) const { return options_.prefix + ":node:" + id; }

std::string Membership::self_json() {
  const NodeInfo& s = options_.self;
  json::array listeners;
  for (const auto& l : s.listeners) listeners.emplace_back(l);
  json::object sessions;
  if (options_.sessions) {
    for (const auto& [client, n] : options_.sessions()) sessions[client] = n;
  }
  return json::serialize(json::object{{"id", s.id},
                                      {"sessions", std::move(sessions)},
                                      {"instance", s.instance},
                                      {"hostname", s.hostname},
                                      {"address", redis_->local_address()},
                                      {"listeners", std::move(listeners)},
                                      {"version", s.version},
                                      {"revision", s.revision},
                                      {"config_sha256", s.config_sha256},
                                      {"started_unix_ms", s.started_unix_ms}});
}

void Membership::tick() {
  if (stopped_) return;
  timer_.expires_after(options_.heartbeat);
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (!ec) self->tick();
  });
  if (options_.discovery == config::DiscoveryMethod::kubernetes && ticks_ % kResolveEvery == 0) {
    resolve_expected();
  }
  ++ticks_;
  // A heartbeat still waiting for Redis (which answers within its timeout, or fails) is not
  // doubled.
  if (in_flight_) return;
  in_flight_ = true;
  if (!redis_->local_address().empty()) return heartbeat();
  // Never connected yet: connect first, so that the node's address is in its first heartbeat.
  redis_->send({{"PING"}}, [self = shared_from_this()](const std::string& error, std::vector<RedisReply>) {
    if (self->stopped_) return;
    if (!error.empty()) return self->redis_failed(error);
    self->heartbeat();
  });
}

void Membership::heartbeat() {
  const std::string mine = key(options_.self.id);
  redis_->send({{"GET", mine},
                {"SET", mine, self_json(), "PX", std::to_string(options_.node_timeout.count())},
                {"SADD", options_.prefix + ":nodes", options_.self.id},
                {"SMEMBERS", options_.prefix + ":nodes"}},
               [self = shared_from_this()](const std::string& error, std::vector<RedisReply> replies) {
                 self->heartbeat_done(error, std::move(replies));
               });
}

void Membership::redis_failed(const std::string& error) {
  in_flight_ = false;
  bool was_up = false;
  // Not read for node_timeout: the others are not known to be alive any more (nor gone).
  const bool stale = Clock::now() - last_read_ > options_.node_timeout;
  if (stale) {
    for (auto& [id, n] : nodes_) {
      if (!n.self) n.alive = false;
    }
  }
  {
    std::lock_guard lock(mutex_);
    was_up = view_.redis_up || view_.heartbeats_ok + view_.heartbeats_failed == 0;
    view_.redis_up = false;
    view_.redis_error = error;
    ++view_.heartbeats_failed;
    if (stale) {
      for (auto& n : view_.nodes) {
        if (!n.self) n.alive = false;
      }
    }
  }
  if (was_up) {
    log::warn("cluster: Redis at {} does not answer ({}): this node goes on alone (its own "
              "limits and receipts) until Redis is back",
              redis_->url(), error);
  }
}

void Membership::heartbeat_done(const std::string& error, std::vector<RedisReply> replies) {
  if (stopped_) return;
  if (!error.empty()) return redis_failed(error);
  for (const auto& r : replies) {
    if (r.is_error()) return redis_failed("Redis refused: " + r.text);
  }
  // GET before our SET: another process with our node_id wrote it since our last heartbeat.
  // Not before our first SET: the key may be our own previous run's (a restart within
  // node_timeout).
  std::string duplicate;
  if (written_once_ && replies[0].type == RedisReply::Type::string) {
    if (auto other = parse_node(replies[0].text); other && other->instance != options_.self.instance) {
      duplicate = options_.self.id;
      static log::Aggregated duplicates(log::Level::error, "duplicate node_id lines");
      duplicates("cluster: another process heartbeats as node_id {} (from {} {}): give every node "
                 "its own node_id",
                 options_.self.id, other->hostname, other->address);
    }
  }
  written_once_ = true;
  std::vector<std::string> ids;
  for (const auto& item : replies[3].items) ids.push_back(item.text);
  std::sort(ids.begin(), ids.end());
  bool back = false;
  {
    std::lock_guard lock(mutex_);
    back = !view_.redis_up && view_.heartbeats_failed > 0;
    view_.redis_up = true;
    view_.redis_error.clear();
    view_.duplicates.clear();
    if (!duplicate.empty()) view_.duplicates.push_back(duplicate);
  }
  if (back) log::info("cluster: Redis at {} answers again", redis_->url());
  read_nodes(std::move(ids));
}

void Membership::read_nodes(std::vector<std::string> ids) {
  if (ids.empty()) {
    in_flight_ = false;
    std::lock_guard lock(mutex_);
    ++view_.heartbeats_ok;
    return;
  }
  RedisCommand mget{"MGET"};
  for (const auto& id : ids) mget.push_back(key(id));
  redis_->send({std::move(mget)},
               [self = shared_from_this(), ids = std::move(ids)](const std::string& error,
                                                                 std::vector<RedisReply> replies) {
                 self->nodes_read(ids, error, std::move(replies));
               });
}

void Membership::nodes_read(const std::vector<std::string>& ids, const std::string& error,
                            std::vector<RedisReply> replies) {
  if (stopped_) return;
  if (!error.empty()) return redis_failed(error);
  in_flight_ = false;
  if (replies.empty() || replies[0].is_error() || replies[0].items.size() != ids.size()) {
    return redis_failed("Redis refused: " + (replies.empty() ? std::string("no reply") : replies[0].text));
  }
  const auto now = Clock::now();
  last_read_ = now;
  std::vector<std::string> forget;
  std::map<std::string, NodeInfo> next;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const RedisReply& r = replies[0].items[i];
    auto previous = nodes_.find(ids[i]);
    std::optional<NodeInfo> info;
    if (r.type == RedisReply::Type::string) info = parse_node(r.text);
    if (info) {
      info->alive = true;
      info->self = info->id == options_.self.id;
      if (previous == nodes_.end() || !previous->second.alive) {
        if (!info->self) {
          log::info("cluster: node {} is here ({} {}, {} {}, config {})", info->id, info->hostname,
                    info->address, info->version, info->revision, info->config_sha256.substr(0, 12));
        }
      }
      next[ids[i]] = std::move(*info);
      continue;
    }
    // Its key expired: no heartbeat for node_timeout.
    NodeInfo gone = previous != nodes_.end() ? previous->second : NodeInfo{};
    gone.id = ids[i];
    if (previous == nodes_.end() || previous->second.alive) {
      gone.gone_since = now;
      if (previous != nodes_.end()) {
        log::warn("cluster: node {} is gone (no heartbeat for {} ms)", ids[i], options_.node_timeout.count());
      }
    }
    gone.alive = false;
    gone.self = false;
    if (now - gone.gone_since > kForgetGone) {
      forget.push_back(ids[i]);
      continue;
    }
    next[ids[i]] = std::move(gone);
  }
  nodes_ = std::move(next);
  // Who discovery expects and does not see.
  std::vector<std::string> missing;
  for (auto& [id, n] : nodes_) n.expected = false;
  if (options_.discovery == config::DiscoveryMethod::static_) {
    for (const auto& peer : options_.static_peers) {
      bool found = false;
      for (auto& [id, n] : nodes_) {
        if (n.alive && matches(n, peer)) {
          n.expected = true;
          found = true;
        }
      }
      if (!found) missing.push_back(peer_text(peer));
    }
  } else if (options_.discovery == config::DiscoveryMethod::kubernetes) {
    for (const auto& address : expected_addresses_) {
      bool found = false;
      for (auto& [id, n] : nodes_) {
        if (n.alive && n.address == address) {
          n.expected = true;
          found = true;
        }
      }
      if (!found) missing.push_back(address);
    }
  }
  {
    std::lock_guard lock(mutex_);
    view_.nodes.clear();
    for (const auto& [id, n] : nodes_) view_.nodes.push_back(n);
    view_.missing = std::move(missing);
    view_.redis_commands = redis_->commands_sent();
    ++view_.heartbeats_ok;
  }
  if (!forget.empty()) {
    RedisCommand srem{"SREM", options_.prefix + ":nodes"};
    srem.insert(srem.end(), forget.begin(), forget.end());
    redis_->send({std::move(srem)}, nullptr);
  }
}

void Membership::resolve_expected() {
  std::string name = options_.kubernetes_service;
  if (!options_.kubernetes_namespace.empty()) name += "." + options_.kubernetes_namespace + ".svc";
  resolver_.async_resolve(
      name, "", [self = shared_from_this(), name](const boost::system::error_code& ec,
                                                  const asio::ip::tcp::resolver::results_type& results) {
        if (ec) {
          static log::Aggregated unresolved(log::Level::warn, "failed lookups of the service");
          unresolved("cluster: cannot resolve {} (discovery: kubernetes): {}", name, ec.message());
          return;
        }
        std::set<std::string> addresses;
        for (const auto& r : results) addresses.insert(r.endpoint().address().to_string());
        self->expected_addresses_ = std::move(addresses);
      });
}

void Membership::stop(std::function<void()> done) {
  asio::post(executor_, [self = shared_from_this(), done = std::move(done)]() mutable {
    self->stopped_ = true;
    self->timer_.cancel();
    self->resolver_.cancel();
    self->redis_->send({{"DEL", self->key(self->options_.self.id)}},
                       [self, done = std::move(done)](const std::string&, std::vector<RedisReply>) {
                         self->redis_->close();
                         if (done) done();
                       });
  });
}

void Membership::halt() {
  asio::post(executor_, [self = shared_from_this()] {
    self->stopped_ = true;
    self->timer_.cancel();
    self->resolver_.cancel();
    self->redis_->close();
  });
}

Membership::View Membership::view() const {
  std::lock_guard lock(mutex_);
  return view_;
}

}  // namespace smppd::cluster
