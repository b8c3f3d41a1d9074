// Counts of open connections and bound sessions, checked when a peer connects and when it binds
// (never per message), each count held by an RAII lease so that it cannot leak.
//
// A connection counts as *unbound* from its accept until its bind succeeds (attach_client), and
// is held to `max_unbound_connections` (the listener) and `max_unbound_connections_per_ip`
// besides `max_connections` and `max_connections_per_ip`: whoever has no credentials can hold
// only a few slots, and never those that clients need to bind. "Per IP" is per IPv4 address or
// per IPv6 /64 (PeerKey::block_of): one subscriber usually holds a whole /64.
//
// Two scopes of client limit:
//  - a listener's `max_connections_per_client` counts a system_id's sessions on that listener:
//    it lives in the listener's ConnectionLimits;
//  - a client's own `max_connections` counts its sessions on every listener together: it lives in
//    one ClientSessionCounter that the server builds once and hands to every listener's
//    ConnectionLimits.
// ConnectionLease::attach_client checks and counts both at once.
//
//   auto admission = limits.acquire_connection(peer);        // on accept
//   if (!admission) return refuse(admission.reason);
//   ConnectionLease lease = std::move(admission.lease);       // kept by the session
//   ...
//   if (auto why = lease.attach_client(id, client->max_connections))  // on bind, after auth
//     return refuse_bind(*why);
//   // the session ends: the lease's destructor gives back every count it holds
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>
#include <unordered_map>

#include "config/config.hpp"
#include "core/string_map.hpp"
#include "limits/peer_key.hpp"

namespace smppd::limits {

namespace detail {
struct ListenerCounts;
}  // namespace detail

// Bound sessions per client system_id across every listener, for the client's own
// `max_connections`. Thread safe. Counted and released only through ConnectionLease.
class ClientSessionCounter {
 public:
  ClientSessionCounter() = default;
  ClientSessionCounter(const ClientSessionCounter&) = delete;
  ClientSessionCounter& operator=(const ClientSessionCounter&) = delete;

  uint32_t sessions(std::string_view system_id) const;
  size_t clients() const;  // system_ids with at least one session
  // Every client with a session, and how many (what a cluster node tells the others).
  std::vector<std::pair<std::string, uint32_t>> snapshot() const;

 private:
  friend class ConnectionLease;
  // Counts one more session unless `limit` (0: unlimited) are already counted.
  bool try_add(std::string_view system_id, uint32_t limit);
  void remove(std::string_view system_id);

  mutable std::mutex mutex_;
  StringMap<uint32_t> sessions_;
};

// One open connection, counted against its listener's limits (and, once attached, against its
// client's). Move-only; the destructor, release() or assigning over it gives the counts back. It
// keeps the listener's counts alive, so it may outlive the ConnectionLimits that granted it. One
// lease belongs to one session: a lease itself is not thread safe.
class ConnectionLease {
 public:
  ConnectionLease() = default;  // empty: holds nothing
  ConnectionLease(ConnectionLease&& other) noexcept;
  ConnectionLease& operator=(ConnectionLease&& other) noexcept;
  ConnectionLease(const ConnectionLease&) = delete;
  ConnectionLease& operator=(const ConnectionLease&) = delete;
  ~ConnectionLease();

  explicit operator bool() const { return counts_ != nullptr; }

  // Counts the bound client `system_id` against the listener's max_connections_per_client and
  // the client's own `client_max_connections` (0: unlimited; from its ClientConfig). Returns
  // std::nullopt when counted, otherwise the reason (reason::kMaxConnectionsPerClient,
  // reason::kClientMaxConnections) and nothing is counted. A lease holds one client: attaching
  // again first gives back the previous one. Once counted, the connection is bound: it no longer
  // counts as unbound, for good (detach_client is an unbind, and the session closes after it).
  // The lease must not be empty.
  [[nodiscard]] std::optional<std::string_view> attach_client(std::string_view system_id,
                                                              uint32_t client_max_connections);
  // Gives back the client's counts and keeps the connection's (an unbind without a close).
  void detach_client();
  // Gives back every count now; the lease is empty afterwards.
  void release();

  bool has_client() const { return has_client_; }
  const std::string& client() const { return client_; }  // empty without a client
  bool unbound() const { return unbound_; }  // counted as unbound (no client attached yet)

 private:
  friend class ConnectionLimits;
  ConnectionLease(std::shared_ptr<detail::ListenerCounts> counts, PeerKey peer);

  std::shared_ptr<detail::ListenerCounts> counts_;
  PeerKey peer_;
  std::string client_;
  bool has_client_ = false;
  bool unbound_ = false;
};

// The outcome of ConnectionLimits::acquire_connection: a lease, or the reason there is none.
struct Admission {
  ConnectionLease lease;    // empty when refused
  std::string_view reason;  // empty when admitted
  explicit operator bool() const { return static_cast<bool>(lease); }
};

// A listener's connection counts. Thread safe (one mutex, taken on connect, bind and close).
class ConnectionLimits {
 public:
  // 0 means unlimited.
  struct Limits {
    uint32_t total = 0;           // max_connections
    uint32_t per_ip = 0;          // max_connections_per_ip
    uint32_t per_client = 0;      // max_connections_per_client
    uint32_t unbound = 0;         // max_unbound_connections
    uint32_t unbound_per_ip = 0;  // max_unbound_connections_per_ip
    static Limits of(const config::ListenerConfig& listener);
  };

  // `clients` is the one counter shared by every listener (client max_connections); null gives
  // this listener a counter of its own (tests).
  ConnectionLimits(Limits limits, std::shared_ptr<ClientSessionCounter> clients);
  ConnectionLimits(const ConnectionLimits&) = delete;
  ConnectionLimits& operator=(const ConnectionLimits&) = delete;
  ~ConnectionLimits();

  // Counts a connection from `peer` (4 or 16 bytes, network order; an IPv4-mapped IPv6 address
  // counts as its IPv4 address, an IPv6 address as its /64), as unbound, unless it would exceed,
  // checked in this order, max_connections (reason::kMaxConnections), max_unbound_connections
  // (reason::kMaxUnboundConnections), max_connections_per_ip (reason::kMaxConnectionsPerIp) or
  // max_unbound_connections_per_ip (reason::kMaxUnboundConnectionsPerIp).
  Admission acquire_connection(std::span<const uint8_t> peer);

  // New limits (a configuration reload) apply to later acquisitions and attachments; connections
  // already counted stay, even above the new limits.
  void set_limits(Limits limits);

  uint32_t connections() const;
  uint32_t connections_from(std::span<const uint8_t> peer) const;
  uint32_t unbound_connections() const;
  uint32_t unbound_connections_from(std::span<const uint8_t> peer) const;
  uint32_t client_sessions(std::string_view system_id) const;  // on this listener
  size_t tracked_peers() const;    // addresses (IPv6: /64 blocks) with a connection
  size_t tracked_clients() const;  // system_ids with a session here

 private:
  std::shared_ptr<detail::ListenerCounts> counts_;
};

}  // namespace smppd::limits
