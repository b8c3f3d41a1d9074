#include "limits/connection_limits.hpp"

#include <cassert>
#include <utility>

#include "limits/reasons.hpp"

namespace smppd::limits {

namespace detail {

struct ListenerCounts {
  explicit ListenerCounts(ConnectionLimits::Limits l, std::shared_ptr<ClientSessionCounter> c)
      : limits(l), clients(std::move(c)) {}

  mutable std::mutex mutex;
  ConnectionLimits::Limits limits;
  const std::shared_ptr<ClientSessionCounter> clients;
  uint32_t total = 0;
  uint32_t unbound = 0;
  // Only keys with a count above zero are kept, so that the maps hold live peers and clients.
  std::unordered_map<PeerKey, uint32_t, PeerKey::Hash> per_ip;
  std::unordered_map<PeerKey, uint32_t, PeerKey::Hash> unbound_per_ip;
  StringMap<uint32_t> per_client;
};

}  // namespace detail

namespace {

template <class Map, class Key>
uint32_t count_in(const Map& map, const Key& key) {
  auto it = map.find(key);
  return it == map.end() ? 0 : it->second;
}

// Takes one from a count that must be above zero; forgets the key at zero.
template <class Map, class Key>
void decrement(Map& map, const Key& key) {
  auto it = map.find(key);
  assert(it != map.end() && it->second > 0);
  if (it == map.end()) return;
  if (--it->second == 0) map.erase(it);
}

bool within(uint32_t count, uint32_t limit) {
  return limit == 0 || count < limit;
}

}  // namespace

// ---- ClientSessionCounter ----

uint32_t ClientSessionCounter::sessions(std::string_view system_id) const {
  std::lock_guard lock(mutex_);
  return count_in(sessions_, system_id);
}

std::vector<std::pair<std::string, uint32_t>> ClientSessionCounter::snapshot() const {
  std::lock_guard lock(mutex_);
  std::vector<std::pair<std::string, uint32_t>> out;
  out.reserve(sessions_.size());
  for (const auto& [id, n] : sessions_) out.emplace_back(id, n);
  return out;
}

size_t ClientSessionCounter::clients() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

bool ClientSessionCounter::try_add(std::string_view system_id, uint32_t limit) {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(system_id);
  uint32_t count = it == sessions_.end() ? 0 : it->second;
  if (!within(count, limit)) return false;
  if (it == sessions_.end()) {
    sessions_.emplace(std::string(system_id), 1);
  } else {
    ++it->second;
  }
  return true;
}

void ClientSessionCounter::remove(std::string_view system_id) {
  std::lock_guard lock(mutex_);
  decrement(sessions_, system_id);
}

// ---- ConnectionLease ----

ConnectionLease::ConnectionLease(std::shared_ptr<detail::ListenerCounts> counts, PeerKey peer)
    : counts_(std::move(counts)), peer_(peer) {}

ConnectionLease::ConnectionLease(ConnectionLease&& other) noexcept
    : counts_(std::move(other.counts_)),
      peer_(other.peer_),
      client_(std::move(other.client_)),
      has_client_(std::exchange(other.has_client_, false)),
      unbound_(std::exchange(other.unbound_, false)) {
  other.client_.clear();
}

ConnectionLease& ConnectionLease::operator=(ConnectionLease&& other) noexcept {
  if (this != &other) {
    release();
    counts_ = std::move(other.counts_);
    peer_ = other.peer_;
    client_ = std::move(other.client_);
    other.client_.clear();
    has_client_ = std::exchange(other.has_client_, false);
    unbound_ = std::exchange(other.unbound_, false);
  }
  return *this;
}

ConnectionLease::~ConnectionLease() {
  release();
}

std::optional<std::string_view> ConnectionLease::attach_client(std::string_view system_id,
                                                               uint32_t client_max_connections) {
  assert(counts_ && "attach_client on an empty lease");
  detach_client();
  if (!counts_) return reason::kMaxConnections;  // an empty lease holds no connection
  std::lock_guard lock(counts_->mutex);
  // The listener's mutex is taken before the counter's, always in this order.
  if (!within(count_in(counts_->per_client, system_id), counts_->limits.per_client)) {
    return reason::kMaxConnectionsPerClient;
  }
  if (!counts_->clients->try_add(system_id, client_max_connections)) {
    return reason::kClientMaxConnections;
  }
  auto it = counts_->per_client.find(system_id);
  if (it == counts_->per_client.end()) {
    counts_->per_client.emplace(std::string(system_id), 1);
  } else {
    ++it->second;
  }
  client_ = system_id;
  has_client_ = true;
  if (unbound_) {
    decrement(counts_->unbound_per_ip, peer_);
    assert(counts_->unbound > 0);
    if (counts_->unbound > 0) --counts_->unbound;
    unbound_ = false;
  }
  return std::nullopt;
}

void ConnectionLease::detach_client() {
  if (!counts_ || !has_client_) return;
  {
    std::lock_guard lock(counts_->mutex);
    decrement(counts_->per_client, client_);
    counts_->clients->remove(client_);
  }
  has_client_ = false;
  client_.clear();
}

void ConnectionLease::release() {
  if (!counts_) return;
  detach_client();
  {
    std::lock_guard lock(counts_->mutex);
    decrement(counts_->per_ip, peer_);
    assert(counts_->total > 0);
    if (counts_->total > 0) --counts_->total;
    if (unbound_) {
      decrement(counts_->unbound_per_ip, peer_);
      assert(counts_->unbound > 0);
      if (counts_->unbound > 0) --counts_->unbound;
    }
  }
  unbound_ = false;
  counts_.reset();
}

// ---- ConnectionLimits ----

ConnectionLimits::Limits ConnectionLimits::Limits::of(const config::ListenerConfig& listener) {
  return {listener.max_connections, listener.max_connections_per_ip,
          listener.max_connections_per_client, listener.max_unbound_connections,
          listener.max_unbound_connections_per_ip};
}

ConnectionLimits::ConnectionLimits(Limits limits, std::shared_ptr<ClientSessionCounter> clients)
    : counts_(std::make_shared<detail::ListenerCounts>(
          limits, clients ? std::move(clients) : std::make_shared<ClientSessionCounter>())) {}

ConnectionLimits::~ConnectionLimits() = default;

Admission ConnectionLimits::acquire_connection(std::span<const uint8_t> peer) {
  const PeerKey key = PeerKey::block_of(peer);
  std::lock_guard lock(counts_->mutex);
  const ConnectionLimits::Limits& limits = counts_->limits;
  if (!within(counts_->total, limits.total)) return {ConnectionLease(), reason::kMaxConnections};
  if (!within(counts_->unbound, limits.unbound)) {
    return {ConnectionLease(), reason::kMaxUnboundConnections};
  }
  // Looked up without inserting: a refused peer must leave no key behind.
  if (!within(count_in(counts_->per_ip, key), limits.per_ip)) {
    return {ConnectionLease(), reason::kMaxConnectionsPerIp};
  }
  if (!within(count_in(counts_->unbound_per_ip, key), limits.unbound_per_ip)) {
    return {ConnectionLease(), reason::kMaxUnboundConnectionsPerIp};
  }
  ++counts_->per_ip[key];
  ++counts_->unbound_per_ip[key];
  ++counts_->total;
  ++counts_->unbound;
  ConnectionLease lease(counts_, key);
  lease.unbound_ = true;
  return {std::move(lease), {}};
}

void ConnectionLimits::set_limits(Limits limits) {
  std::lock_guard lock(counts_->mutex);
  counts_->limits = limits;
}

uint32_t ConnectionLimits::connections() const {
  std::lock_guard lock(counts_->mutex);
  return counts_->total;
}

uint32_t ConnectionLimits::connections_from(std::span<const uint8_t> peer) const {
  std::lock_guard lock(counts_->mutex);
  return count_in(counts_->per_ip, PeerKey::block_of(peer));
}

uint32_t ConnectionLimits::unbound_connections() const {
  std::lock_guard lock(counts_->mutex);
  return counts_->unbound;
}

uint32_t ConnectionLimits::unbound_connections_from(std::span<const uint8_t> peer) const {
  std::lock_guard lock(counts_->mutex);
  return count_in(counts_->unbound_per_ip, PeerKey::block_of(peer));
}

uint32_t ConnectionLimits::client_sessions(std::string_view system_id) const {
  std::lock_guard lock(counts_->mutex);
  return count_in(counts_->per_client, system_id);
}

size_t ConnectionLimits::tracked_peers() const {
  std::lock_guard lock(counts_->mutex);
  return counts_->per_ip.size();
}

size_t ConnectionLimits::tracked_clients() const {
  std::lock_guard lock(counts_->mutex);
  return counts_->per_client.size();
}

}  // namespace smppd::limits
