// Upstream keys read from YAML by the loader and shown at work over loopback:
// window.timeout (the wait in the pool's queue), timeouts.enquire_link (the enquire_link
// timeout when enquire_link.timeout is not written) and protocol.version (the bind's version
// when bind.version is not written). The bare SMSC of bare_smsc.hpp answers binds,
// and here submit_sm only when told to.
#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <future>
#include <thread>

#include "bare_smsc.hpp"
#include "config/loader.hpp"
#include "smpp/codec.hpp"
#include "upstream/pool.hpp"

namespace smppd::upstream {
namespace {

using namespace std::chrono_literals;
using tcp = asio::ip::tcp;

using testing::BareSmsc;
using testing::NoDeliveries;

class UpstreamKeysTest : public ::testing::Test, protected testing::IoThread {
 protected:
  Counters counters;
  NoDeliveries events;
  std::shared_ptr<BareSmsc> smsc;
  std::shared_ptr<Pool> pool;

  UpstreamKeysTest() {
    on_io([&] {
      smsc = std::make_shared<BareSmsc>(io);
      smsc->answer_submit = false;
      smsc->start();
    });
  }
  ~UpstreamKeysTest() override {
    on_io([&] {
      if (pool) pool->stop(50ms);
      smsc->stop();
    });
    // Until every coroutine has let go: the pool's connections and clocks (each holds its pool)
    // and the SMSC's loops.
    const auto all_ended = [&] {
      bool ended = true;
      on_io([&] { ended = (!pool || pool.use_count() == 1) && smsc.use_count() == 1; });
      return ended;
    };
    wait_for(all_ended);
    on_io([&] {
      pool.reset();
      smsc.reset();
    });
    stop_io();
  }

  // An upstream to the SMSC of this test, with `settings` (YAML, indented for the upstream's
  // mapping) read by the loader; health checks off.
  void start_pool(const std::string& settings) {
    const std::string yaml =
        "listeners: [{type: smpp, address: \":0\"}]\n"
        "upstreams:\n"
        "  - name: smsc\n"
        "    hosts: [{address: \"127.0.0.1:" +
        std::to_string(smsc->port()) +
        "\"}]\n"
        "    bind: {system_id: smppd}\n"
        "    health: {enabled: false}\n" +
        settings;
    auto loaded = config::load_config_string(yaml, "test.yaml");
    ASSERT_TRUE(loaded.ok()) << loaded.errors.front().to_string();
    pool = std::make_shared<Pool>(loaded.config->upstreams.at(0),
                                  std::vector<asio::any_io_executor>{io.get_executor()}, events,
                                  counters);
    pool->start();
    wait_for([&] { return pool->connections_up() == 1; });
  }

  template <class Pred>
  static void wait_for(Pred p, std::chrono::milliseconds limit = 5s) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!p()) {
      ASSERT_LT(std::chrono::steady_clock::now(), until) << "timed out";
      std::this_thread::sleep_for(5ms);
    }
  }
};

smpp::Pdu a_submit() {
  smpp::SubmitSm s;
  s.destination_addr.assign("258841234567");
  s.short_message.assign("hello");
  return smpp::make_pdu(0, s);
}

TEST_F(UpstreamKeysTest, WindowTimeoutBoundsTheWaitForAWindowSlot) {
  start_pool(
      "    pool: {min_connections: 1, max_connections: 1}\n"
      "    window: {size: 1, timeout: 200ms}\n"
      "    timeouts: {response: 5s}\n");
  std::atomic<int> first{-1}, second{-1};
  const auto start = std::chrono::steady_clock::now();
  std::atomic<int64_t> second_after_ms{0};
  // The SMSC does not answer: the first takes the only window slot and waits for its response
  // (5 s); the second waits in the queue for the slot, and fails after window.timeout.
  pool->submit(a_submit(),
               [&](Result r, smpp::Pdu*, std::string_view) { first = static_cast<int>(r); });
  pool->submit(a_submit(), [&](Result r, smpp::Pdu*, std::string_view) {
    second_after_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - start)
                          .count();
    second = static_cast<int>(r);
  });
  wait_for([&] { return second != -1; }, 3s);
  EXPECT_EQ(second, static_cast<int>(Result::failed));
  EXPECT_GE(second_after_ms, 190);
  EXPECT_LT(second_after_ms, 1500);
  EXPECT_EQ(first, -1) << "the request sent still waits for its response";
  EXPECT_EQ(smsc->submits.load(), 1) << "the second was sent: it did not wait for the slot";
}

TEST_F(UpstreamKeysTest, TimeoutsEnquireLinkClosesAConnectionWhoseEnquireLinkGoesUnanswered) {
  smsc->answer_enquire_link = false;
  start_pool(
      "    enquire_link: {interval: 100ms}\n"
      "    timeouts: {enquire_link: 200ms}\n");
  // Unanswered after 200 ms, the connection is closed and the pool connects again.
  wait_for([&] { return smsc->connections >= 2; }, 3s);
}

TEST_F(UpstreamKeysTest, ProtocolVersionIsTheVersionBoundWith) {
  start_pool("    protocol: {version: \"3.3\"}\n");
  EXPECT_EQ(smsc->bind_interface_version, 0x33);
}

}  // namespace
}  // namespace smppd::upstream
