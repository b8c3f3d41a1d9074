#pragma once

// Who is in the cluster, through Redis. Every heartbeat_interval a node writes
//   <prefix>:node:<node_id>   its description (JSON), expiring after node_timeout
//   <prefix>:nodes            the set of node ids ever seen (pruned an hour after one is gone)
// and reads every node's description back: a node whose key has expired stopped heartbeating
// for node_timeout and is gone. Redis expires the keys, so the nodes' clocks do not matter.
// Discovery says who is expected: `static` peers (host or host:port, matched against a node's
// id, host name or address) and `kubernetes` (the addresses of the headless service's DNS
// name, matched against a node's address). One pipeline of 4 commands and one MGET per
// heartbeat.
//
// Redis down: the node goes on alone, says so once in the log, and finds the others again
// when Redis answers. Everything runs on the executor given (the cluster's thread); view() may
// be called from any thread.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cluster/redis_client.hpp"
#include "config/config.hpp"

namespace smppd::cluster {

struct NodeInfo {
  std::string id;
  std::string instance;  // random, per start: two processes with one node_id differ here
  std::string hostname;
  std::string address;  // its address as Redis sees the network (the connection's local one)
  std::vector<std::string> listeners;  // "smpp 0.0.0.0:2775"
  std::string version;
  std::string revision;
  std::string config_sha256;
  int64_t started_unix_ms = 0;
  std::map<std::string, uint32_t> sessions;  // bound SMPP sessions by client system_id
  // Filled by the reader, not written:
  bool alive = false;
  bool self = false;
  bool expected = false;  // discovery names it
  std::chrono::steady_clock::time_point gone_since{};
};

struct MembershipOptions {
  std::string prefix = "smppd";
  std::chrono::milliseconds heartbeat{1000};
  std::chrono::milliseconds node_timeout{5000};
  config::DiscoveryMethod discovery = config::DiscoveryMethod::static_;
  std::vector<config::HostPort> static_peers;
  std::string kubernetes_service;
  std::string kubernetes_namespace;
  NodeInfo self;  // id, hostname, listeners, version, revision, config_sha256, started
  // This node's sessions by client, read at each heartbeat (any thread may be asked).
  std::function<std::map<std::string, uint32_t>()> sessions;
};

MembershipOptions membership_options(const config::ClusterConfig& c);

class Membership : public std::enable_shared_from_this<Membership> {
 public:
  struct View {
    bool redis_up = false;
    std::string redis_url;
    std::string redis_error;  // why the last heartbeat failed
    // By id. While Redis does not answer, what was last read; after node_timeout without it,
    // no other node is counted alive (not seen, not known to be gone).
    std::vector<NodeInfo> nodes;
    std::vector<std::string> missing;  // expected by discovery, no live node found for it
    std::vector<std::string> duplicates;  // node ids another process also heartbeats
    uint64_t heartbeats_ok = 0;
    uint64_t heartbeats_failed = 0;
    uint64_t redis_commands = 0;
  };

  Membership(const boost::asio::any_io_executor& executor, std::shared_ptr<RedisClient> redis,
             MembershipOptions options);
  ~Membership();

  void start();
  // Deletes this node's key (the others see it gone at once), then stops; `done` after that,
  // or after the timeout when Redis does not answer.
  void stop(std::function<void()> done);
  // Stops heartbeating and leaves the key to expire, as a node that dies does (tests), then
  // closes the connection.
  void halt();
  void set_config_sha256(std::string sha256);

  View view() const;

 private:
  void tick();
  void heartbeat();
  void heartbeat_done(const std::string& error, std::vector<RedisReply> replies);
  void read_nodes(std::vector<std::string> ids);
  void nodes_read(const std::vector<std::string>& ids, const std::string& error,
                  std::vector<RedisReply> replies);
  void resolve_expected();
  void redis_failed(const std::string& error);
  std::string key(const std::string& id) const;
  std::string self_json();

  boost::asio::any_io_executor executor_;
  std::shared_ptr<RedisClient> redis_;
  MembershipOptions options_;
  boost::asio::steady_timer timer_;
  boost::asio::ip::tcp::resolver resolver_;
  bool stopped_ = false;
  bool in_flight_ = false;
  bool written_once_ = false;  // our own key was written by this instance at least once
  std::chrono::steady_clock::time_point last_read_{};  // the last time every node was read
  uint64_t ticks_ = 0;
  std::set<std::string> expected_addresses_;  // kubernetes: the service's addresses

  mutable std::mutex mutex_;  // what view() reads
  View view_;
  std::map<std::string, NodeInfo> nodes_;
};

}  // namespace smppd::cluster
