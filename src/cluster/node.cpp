#include "cluster/node.hpp"

#include <future>

#include "core/log.hpp"

namespace smppd::cluster {

Node::Node(const config::ClusterConfig& c, NodeInfo self,
           std::function<std::map<std::string, uint32_t>()> sessions)
    : work_(boost::asio::make_work_guard(context_)),
      redis_(RedisClient::create(context_.get_executor(), redis_options(c))),
      id_(c.node_id) {
  MembershipOptions o = membership_options(c);
  self.id = c.node_id;
  if (self.hostname.empty()) self.hostname = o.self.hostname;
  o.self = std::move(self);
  o.sessions = std::move(sessions);
  membership_ = std::make_shared<Membership>(context_.get_executor(), redis_, std::move(o));
}

Node::~Node() { stop(std::chrono::milliseconds(0)); }

void Node::start() {
  membership_->start();
  thread_ = std::thread([this] { context_.run(); });
  log::info("cluster: node {} heartbeats to Redis at {}", id_, redis_->url());
}

void Node::stop(std::chrono::milliseconds within) {
  if (stopped_) return;
  stopped_ = true;
  if (thread_.joinable() && within.count() > 0) {
    auto left = std::make_shared<std::promise<void>>();
    auto f = left->get_future();
    membership_->stop([left] { left->set_value(); });
    if (f.wait_for(within) != std::future_status::ready) {
      log::warn("cluster: Redis did not confirm node {} leaving: the others see it gone when its "
                "key expires",
                id_);
    }
  } else {
    membership_->halt();
  }
  work_.reset();
  context_.stop();
  if (thread_.joinable()) thread_.join();
  // What is still queued (the halt, a heartbeat waiting for its answer) is run now, on this
  // thread: the connection closed, every request answered "closed", nothing left holding the
  // membership and the client.
  context_.restart();
  membership_->halt();
  redis_->close();
  context_.poll();
}

}  // namespace smppd::cluster
