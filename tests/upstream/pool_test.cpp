// Upstream pools against the built-in simulator as the SMSC, over loopback: distribution,
// throttling, retries, rate limits, priorities and reconnection.
#include "upstream/pool.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <atomic>
#include <future>
#include <thread>

#include "sim/simulator.hpp"
#include "smpp/status.hpp"

namespace smppd::upstream {
namespace {

using namespace std::chrono_literals;
using tcp = asio::ip::tcp;

struct NoDeliveries : PoolEvents {
  std::atomic<int> deliveries{0};
  uint32_t on_delivery(Pool&, smpp::Pdu&) override {
    ++deliveries;
    return 0;
  }
};

class PoolTest : public ::testing::Test {
 protected:
  asio::io_context io{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard{
      io.get_executor()};
  std::thread thread{[this] { io.run(); }};
  Counters counters;
  NoDeliveries events;
  std::vector<std::unique_ptr<sim::Simulator>> sims;
  std::shared_ptr<Pool> pool;

  ~PoolTest() override {
    on_io([&] {
      if (pool) pool->stop(100ms);
      for (auto& s : sims) s->stop(100ms);
    });
    std::this_thread::sleep_for(300ms);
    on_io([&] { sims.clear(); });
    guard.reset();
    io.stop();
    thread.join();
  }

  template <class F>
  void on_io(F f) {
    std::promise<void> done;
    asio::post(io, [&] {
      f();
      done.set_value();
    });
    done.get_future().get();
  }

  uint16_t start_sim(config::SimulatorConfig c = {}, uint16_t port = 0) {
    uint16_t bound = 0;
    on_io([&] {
      sims.push_back(std::make_unique<sim::Simulator>(io, c));
      bound = sims.back()->listen(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port)).port();
    });
    return bound;
  }

  sim::SimulatorStats stats(std::size_t i) {
    sim::SimulatorStats s;
    on_io([&] { s = sims[i]->stats(); });
    return s;
  }

  static config::HostConfig host(uint16_t port, uint32_t weight = 100, uint32_t priority = 1) {
    config::HostConfig h;
    h.address = config::HostPort{"127.0.0.1", port};
    h.weight = weight;
    h.priority = priority;
    return h;
  }

  void start_pool(config::UpstreamConfig c) {
    c.name = "carrier";
    c.bind.system_id = "smppd";
    c.bind.password = "pw";
    pool = std::make_shared<Pool>(c, std::vector<asio::any_io_executor>{io.get_executor()}, events,
                                  counters);
    pool->start();
    wait_for([&] { return pool->connections_up() == c.hosts.size(); });
  }

  template <class Pred>
  static void wait_for(Pred p, std::chrono::milliseconds limit = 5s) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!p()) {
      ASSERT_LT(std::chrono::steady_clock::now(), until) << "timed out";
      std::this_thread::sleep_for(5ms);
    }
  }

  // Submits n messages and waits for every completion; returns the statuses.
  std::vector<uint32_t> submit(int n) {
    std::mutex m;
    std::vector<uint32_t> statuses;
    for (int i = 0; i < n; ++i) {
      smpp::SubmitSm s;
      s.destination_addr.assign("258841234567");
      s.short_message.assign("hello");
      pool->submit(smpp::make_pdu(0, s), [&](Result r, smpp::Pdu* resp, std::string_view) {
        std::lock_guard lock(m);
        statuses.push_back(r == Result::response && resp ? resp->command_status : 0xFFFFFFFF);
      });
    }
    wait_for(
        [&] {
          std::lock_guard lock(m);
          return statuses.size() == static_cast<std::size_t>(n);
        },
        10s);
    {
      std::lock_guard lock(m);
      if (statuses.size() != static_cast<std::size_t>(n)) {
        ADD_FAILURE() << statuses.size() << " of " << n << " completed; queued " << pool->queued();
      }
    }
    return statuses;
  }
};

TEST_F(PoolTest, WeightedHostsShareByWeight) {
  config::UpstreamConfig c;
  c.hosts = {host(start_sim(), 300), host(start_sim(), 100)};
  c.load_balancing = config::LoadBalancing::weighted_round_robin;
  start_pool(c);
  // In batches that fit the windows, so that the weights alone decide.
  for (int batch = 0; batch < 10; ++batch) {
    for (uint32_t s : submit(40)) EXPECT_EQ(s, 0u);
  }
  EXPECT_EQ(stats(0).submits_accepted, 300u);
  EXPECT_EQ(stats(1).submits_accepted, 100u);
  // A burst larger than the windows: nothing is lost, the busy host's excess waits or goes
  // to the other.
  for (uint32_t s : submit(1000)) EXPECT_EQ(s, 0u);
  EXPECT_EQ(stats(0).submits_accepted + stats(1).submits_accepted, 1400u);
}

TEST_F(PoolTest, ThrottlingIsRetriedWithoutDuplicates) {
  config::SimulatorConfig sc;
  sc.throttle_rate = 25;  // every 4th submit is refused with ESME_RTHROTTLED
  config::UpstreamConfig c;
  c.hosts = {host(start_sim(sc))};
  start_pool(c);
  for (uint32_t s : submit(100)) EXPECT_EQ(s, 0u);
  const auto st = stats(0);
  EXPECT_EQ(st.submits_accepted, 100u);  // each message accepted exactly once
  EXPECT_GE(st.throttled, 25u);
}

TEST_F(PoolTest, RetryableErrorsAreRetriedUnderThePolicy) {
  config::SimulatorConfig sc;
  sc.error_rate = 50;  // every 2nd submit: ESME_RSYSERR, retryable by default
  config::UpstreamConfig c;
  c.hosts = {host(start_sim(sc))};
  c.retry.delay = 10ms;
  c.retry.max_attempts = 10;  // a retry may meet an injected error again
  start_pool(c);
  for (uint32_t s : submit(20)) EXPECT_EQ(s, 0u);
  EXPECT_EQ(stats(0).submits_accepted, 20u);
}

TEST_F(PoolTest, RetriesStopAtMaxAttemptsAndTheClientSeesTheStatus) {
  config::SimulatorConfig sc;
  sc.error_rate = 100;
  config::UpstreamConfig c;
  c.hosts = {host(start_sim(sc))};
  c.retry.delay = 5ms;
  c.retry.max_attempts = 3;
  start_pool(c);
  const auto statuses = submit(1);
  EXPECT_EQ(statuses[0], smpp::status::ESME_RSYSERR);
  EXPECT_EQ(stats(0).errors, 3u);  // three attempts, no more
}

TEST_F(PoolTest, RateLimitSpacesMessages) {
  config::UpstreamConfig c;
  c.hosts = {host(start_sim())};
  c.rate_limit.messages_per_second = 200;
  c.rate_limit.burst = 10;
  start_pool(c);
  const auto start = std::chrono::steady_clock::now();
  for (uint32_t s : submit(70)) EXPECT_EQ(s, 0u);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 280ms);  // 10 at once, then 60 at 200/s
  EXPECT_EQ(stats(0).submits_accepted, 70u);
}

TEST_F(PoolTest, BackupPriorityOnlyWhileThePrimaryIsDown) {
  config::UpstreamConfig c;
  c.hosts = {host(start_sim(), 100, 1), host(start_sim(), 100, 2)};
  start_pool(c);
  submit(10);
  EXPECT_EQ(stats(0).submits_accepted, 10u);
  EXPECT_EQ(stats(1).submits_accepted, 0u);
  on_io([&] { sims[0]->stop(0ms); });
  wait_for([&] { return pool->connections_up() == 1; });
  for (uint32_t s : submit(10)) EXPECT_EQ(s, 0u);
  EXPECT_EQ(stats(1).submits_accepted, 10u);
}

TEST_F(PoolTest, ReconnectsWhenTheSmscComesBack) {
  config::UpstreamConfig c;
  const uint16_t port = start_sim();
  c.hosts = {host(port)};
  start_pool(c);
  on_io([&] { sims[0]->stop(0ms); });
  wait_for([&] { return pool->connections_up() == 0; });
  start_sim({}, port);  // the SMSC restarts on the same port
  wait_for([&] { return pool->connections_up() == 1; }, 10s);
  for (uint32_t s : submit(5)) EXPECT_EQ(s, 0u);
  EXPECT_EQ(stats(1).submits_accepted, 5u);
}

TEST_F(PoolTest, SuspendHoldsMessagesAndResumeSendsThem) {
  config::UpstreamConfig c;
  c.hosts = {host(start_sim())};
  start_pool(c);
  pool->suspend();
  std::atomic<int> done{0};
  smpp::SubmitSm s;
  s.destination_addr.assign("1");
  pool->submit(smpp::make_pdu(0, s), [&](Result, smpp::Pdu*, std::string_view) { ++done; });
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(done.load(), 0);
  EXPECT_EQ(pool->queued(), 1u);
  pool->resume();
  wait_for([&] { return done.load() == 1; });
}

TEST_F(PoolTest, AnSmscGoingAwayMidStreamCompletesEveryRequest) {
  config::UpstreamConfig c;
  c.hosts = {host(start_sim())};
  c.timeouts.response = 2s;
  start_pool(c);
  std::atomic<int> done{0};
  for (int i = 0; i < 500; ++i) {
    smpp::SubmitSm s;
    s.destination_addr.assign("1");
    pool->submit(smpp::make_pdu(0, s), [&](Result, smpp::Pdu*, std::string_view) { ++done; });
    if (i == 100) on_io([&] { sims[0]->stop(0ms); });  // the SMSC drops everything
  }
  // Each request ends: answered, failed by the drop, or failed after waiting for a connection.
  wait_for([&] { return done.load() == 500; }, 10s);
}

TEST_F(PoolTest, GrowsUnderLoadAndShrinksWhenIdle) {
  config::UpstreamConfig c;
  c.hosts = {host(start_sim())};
  c.window.size = 1;  // one request per connection: a burst needs more connections
  c.pool.min_connections = 1;
  c.pool.max_connections = 3;
  c.pool.idle_timeout = 1s;
  start_pool(c);
  for (uint32_t s : submit(200)) EXPECT_EQ(s, 0u);
  EXPECT_GT(stats(0).binds, 1u);  // more connections were opened for the burst
  // Idle: back to min_connections.
  wait_for([&] { return pool->connections_up() == 1; }, 5s);
  for (uint32_t s : submit(3)) EXPECT_EQ(s, 0u);
}

TEST_F(PoolTest, RecyclesConnectionsAfterMaxLifetime) {
  config::UpstreamConfig c;
  c.hosts = {host(start_sim())};
  c.pool.max_lifetime = 1s;
  start_pool(c);
  wait_for([&] { return stats(0).binds >= 2; }, 5s);  // unbound and bound again
  wait_for([&] { return pool->connections_up() == 1; });
  for (uint32_t s : submit(5)) EXPECT_EQ(s, 0u);
}

}  // namespace
}  // namespace smppd::upstream
