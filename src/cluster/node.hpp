#pragma once

// This smppd as a node of the cluster (cluster.enabled): a thread of its own with the Redis
// connection and the membership. Made once at start; cluster settings need a restart.

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "cluster/membership.hpp"
#include "cluster/redis_client.hpp"
#include "config/config.hpp"

namespace smppd::cluster {

class Node {
 public:
  // `self`: what this node says of itself (listeners, version, config hash); the rest comes
  // from `c`. Throws std::runtime_error for a TLS section that does not load.
  Node(const config::ClusterConfig& c, NodeInfo self,
       std::function<std::map<std::string, uint32_t>()> sessions = nullptr);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  void start();
  // Deletes this node's key so that the others see it gone at once (within `within`), then
  // stops the thread.
  void stop(std::chrono::milliseconds within);
  void set_config_sha256(std::string sha256) { membership_->set_config_sha256(std::move(sha256)); }

  Membership::View view() const { return membership_->view(); }
  const std::string& node_id() const { return id_; }

 private:
  boost::asio::io_context context_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::shared_ptr<RedisClient> redis_;
  std::shared_ptr<Membership> membership_;
  std::string id_;
  std::thread thread_;
  bool stopped_ = false;
};

}  // namespace smppd::cluster
