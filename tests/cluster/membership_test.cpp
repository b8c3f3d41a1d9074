// Membership through a real redis-server: nodes find each other, a node that stops heartbeating
// is gone after node_timeout, one that stops cleanly at once, discovery's expected peers, a
// second process with the same node_id, and Redis going away and coming back.
#include "cluster/membership.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <functional>
#include <future>
#include <thread>

#include "cluster/redis_server.hpp"

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using smppd::cluster::Membership;
using smppd::cluster::MembershipOptions;
using smppd::cluster::RedisClient;
using smppd::cluster::RedisOptions;
using smppd::testing::RedisServer;

class MembershipTest : public ::testing::Test {
 protected:
  MembershipTest() : work_(asio::make_work_guard(context_)), thread_([this] { context_.run(); }) {}
  ~MembershipTest() override {
    // Halted (their connections closed, their timers cancelled) while the context runs; what
    // they had pending finishes before the context stops.
    for (auto& n : nodes_) n->halt();
    std::promise<void> done;
    asio::post(context_, [this, &done] {
      nodes_.clear();
      done.set_value();
    });
    done.get_future().wait();
    std::this_thread::sleep_for(100ms);
    work_.reset();
    context_.stop();
    thread_.join();
  }

  // A node: its own Redis connection, heartbeats every 100 ms, gone after 1.5 s.
  std::shared_ptr<Membership> node(const std::string& id, uint16_t port,
                                   std::function<void(MembershipOptions&)> adjust = nullptr) {
    RedisOptions r;
    r.port = port;
    r.timeout = 300ms;
    MembershipOptions o;
    o.prefix = "test";
    o.heartbeat = 100ms;
    o.node_timeout = 1500ms;
    o.self.id = id;
    o.self.hostname = id + ".example";
    o.self.listeners = {"smpp 0.0.0.0:2775"};
    o.self.version = "0.1.0";
    o.self.config_sha256 = "abc";
    if (adjust) adjust(o);
    auto m = std::make_shared<Membership>(context_.get_executor(),
                                          RedisClient::create(context_.get_executor(), r), o);
    m->start();
    nodes_.push_back(m);
    return m;
  }

  // Waits (5 s at most) until `ok` holds of the node's view.
  static bool until(const Membership& m, const std::function<bool(const Membership::View&)>& ok) {
    for (int i = 0; i < 250; ++i) {
      if (ok(m.view())) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
  static std::size_t alive(const Membership::View& v) {
    std::size_t n = 0;
    for (const auto& node : v.nodes) n += node.alive ? 1 : 0;
    return n;
  }
  static const smppd::cluster::NodeInfo* find(const Membership::View& v, const std::string& id) {
    for (const auto& n : v.nodes) {
      if (n.id == id) return &n;
    }
    return nullptr;
  }

  asio::io_context context_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
  std::vector<std::shared_ptr<Membership>> nodes_;
};

TEST_F(MembershipTest, NodesFindEachOtherAndOneThatStopsHeartbeatingIsGoneAfterTheTimeout) {
  RedisServer redis;
  auto a = node("a", redis.port());
  auto b = node("b", redis.port(), [](MembershipOptions& o) {
    o.sessions = [] { return std::map<std::string, uint32_t>{{"alice", 2}, {"bob", 1}}; };
  });
  auto c = node("c", redis.port());
  ASSERT_TRUE(until(*a, [](const auto& v) { return alive(v) == 3; }));
  // b's sessions by client, as its heartbeat said.
  EXPECT_EQ(find(a->view(), "b")->sessions, (std::map<std::string, uint32_t>{{"alice", 2}, {"bob", 1}}));
  EXPECT_TRUE(find(a->view(), "c")->sessions.empty());
  const auto view = a->view();
  EXPECT_TRUE(view.redis_up);
  ASSERT_NE(find(view, "b"), nullptr);
  EXPECT_EQ(find(view, "b")->hostname, "b.example");
  EXPECT_EQ(find(view, "b")->address, "127.0.0.1");
  EXPECT_EQ(find(view, "b")->listeners, std::vector<std::string>{"smpp 0.0.0.0:2775"});
  EXPECT_TRUE(find(view, "a")->self);
  EXPECT_EQ(find(view, "a")->address, "127.0.0.1");  // in the first heartbeat already
  EXPECT_FALSE(find(view, "b")->self);
  // c as if killed: its heartbeats stop, its key is left to expire.
  c->halt();
  ASSERT_TRUE(until(*a, [](const auto& v) { return alive(v) == 2; }));
  // Not before Redis expired its key.
  EXPECT_NE(redis.cli("EXISTS test:node:c").find("0"), std::string::npos);
  ASSERT_NE(find(a->view(), "c"), nullptr);
  EXPECT_FALSE(find(a->view(), "c")->alive);
  // b stops cleanly: its key is deleted, gone at the next heartbeat of the others.
  std::promise<void> stopped;
  b->stop([&] { stopped.set_value(); });
  ASSERT_EQ(stopped.get_future().wait_for(2s), std::future_status::ready);
  const auto b_stopped = std::chrono::steady_clock::now();
  ASSERT_TRUE(until(*a, [](const auto& v) { return alive(v) == 1; }));
  EXPECT_LT(std::chrono::steady_clock::now() - b_stopped, 1000ms);  // not its key's expiry
  // Two round trips per heartbeat: the commands Redis got, per heartbeat, stay at 5 (and the
  // first PING).
  const auto v = a->view();
  EXPECT_LE(v.redis_commands, 5 * (v.heartbeats_ok + v.heartbeats_failed + 1) + 1);
}

TEST_F(MembershipTest, ExpectedPeersNotHereAreMissingAndASharedNodeIdIsFlagged) {
  RedisServer redis;
  auto a = node("a", redis.port(), [](MembershipOptions& o) {
    o.static_peers = {{"a", 0}, {"b.example", 2775}, {"127.0.0.1", 2775}, {"c", 0}, {"b", 9999}};
  });
  auto b = node("b", redis.port());
  ASSERT_TRUE(until(*a, [](const auto& v) { return alive(v) == 2 && v.missing.size() == 2; }));
  // By id, host name, address; a port no listener of theirs has is not them.
  EXPECT_EQ(a->view().missing, (std::vector<std::string>{"c", "b:9999"}));
  EXPECT_TRUE(find(a->view(), "b")->expected);
  // b restarted within node_timeout: its previous run's key is not another process.
  b->halt();
  auto b_again = node("b", redis.port());
  std::this_thread::sleep_for(400ms);
  EXPECT_TRUE(b_again->view().duplicates.empty());
  // A second process configured as "b".
  auto b2 = node("b", redis.port());
  ASSERT_TRUE(until(*b_again, [](const auto& v) { return !v.duplicates.empty(); }));
  EXPECT_EQ(b_again->view().duplicates, std::vector<std::string>{"b"});
}

TEST_F(MembershipTest, RedisGoneTheNodeGoesOnAloneAndFindsTheOthersWhenItIsBack) {
  RedisServer redis;
  auto a = node("a", redis.port());
  auto b = node("b", redis.port());
  ASSERT_TRUE(until(*a, [](const auto& v) { return alive(v) == 2; }));
  redis.stop();
  ASSERT_TRUE(until(*a, [](const auto& v) { return !v.redis_up; }));
  EXPECT_FALSE(a->view().redis_error.empty());
  // After node_timeout without Redis, b is not counted alive any more (nor said gone).
  ASSERT_TRUE(until(*a, [](const auto& v) { return alive(v) == 1; }));
  EXPECT_TRUE(find(a->view(), "a")->alive);
  // A new server, empty: the nodes register again.
  ASSERT_TRUE(redis.start());
  ASSERT_TRUE(until(*a, [](const auto& v) { return v.redis_up && alive(v) == 2; }));
  ASSERT_TRUE(until(*b, [](const auto& v) { return v.redis_up && alive(v) == 2; }));
  EXPECT_NE(redis.cli("SMEMBERS test:nodes").find("a"), std::string::npos);
}

}  // namespace
