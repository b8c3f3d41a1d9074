// Upstream keys read from YAML by the loader and shown at work over loopback:
// window.timeout (the wait in the pool's queue), timeouts.enquire_link (the enquire_link
// timeout when enquire_link.timeout is not written) and protocol.version (the bind's version
// when bind.version is not written). A small SMSC of this file answers binds, and answers
// submit_sm and enquire_link only when told to.
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

#include "config/loader.hpp"
#include "smpp/codec.hpp"
#include "upstream/pool.hpp"

namespace smppd::upstream {
namespace {

using namespace std::chrono_literals;
using tcp = asio::ip::tcp;

struct NoDeliveries : PoolEvents {
  uint32_t on_delivery(Pool&, smpp::Pdu&) override { return 0; }
};

class QuietSmsc : public std::enable_shared_from_this<QuietSmsc> {
 public:
  explicit QuietSmsc(asio::io_context& io)
      : acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}
  void start() {
    asio::co_spawn(acceptor_.get_executor(), accept(shared_from_this()), asio::detached);
  }
  void stop() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    for (auto& s : sockets_) s->close(ignored);
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }

  std::atomic<bool> answer_submit{false};
  std::atomic<bool> answer_enquire_link{true};
  std::atomic<int> connections{0};
  std::atomic<int> bind_interface_version{-1};

 private:
  static constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

  asio::awaitable<void> accept(std::shared_ptr<QuietSmsc> self) {
    while (true) {
      auto [ec, socket] = co_await acceptor_.async_accept(nothrow);
      if (ec) co_return;
      ++connections;
      sockets_.push_back(std::make_shared<tcp::socket>(std::move(socket)));
      asio::co_spawn(acceptor_.get_executor(), serve(self, sockets_.back()), asio::detached);
    }
  }

  asio::awaitable<void> serve(std::shared_ptr<QuietSmsc>, std::shared_ptr<tcp::socket> socket) {
    std::vector<uint8_t> in;
    std::array<uint8_t, 4096> chunk;
    while (true) {
      auto [ec, n] = co_await socket->async_read_some(asio::buffer(chunk), nothrow);
      if (ec) co_return;
      in.insert(in.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
      std::vector<uint8_t> out;
      while (true) {
        const auto frame = smpp::frame_at(in);
        if (frame.state == smpp::FrameState::invalid) co_return;
        if (frame.state == smpp::FrameState::need_more) break;
        smpp::Pdu pdu;
        smpp::DecodeError error;
        const bool decoded = smpp::decode(std::span(in).first(frame.length), pdu, error);
        in.erase(in.begin(), in.begin() + frame.length);
        if (!decoded || smpp::is_response(pdu.command_id())) continue;
        if (const auto* b = pdu.as<smpp::BindTransceiver>()) {
          bind_interface_version = b->interface_version;
        }
        if (pdu.command_id() == smpp::CommandId::submit_sm && !answer_submit) continue;
        if (pdu.command_id() == smpp::CommandId::enquire_link && !answer_enquire_link) continue;
        smpp::encode(smpp::make_response(pdu.command_id(), pdu.sequence_number, 0), out);
      }
      if (!out.empty()) {
        auto [wec, written] = co_await asio::async_write(*socket, asio::buffer(out), nothrow);
        if (wec) co_return;
      }
    }
  }

  tcp::acceptor acceptor_;
  std::vector<std::shared_ptr<tcp::socket>> sockets_;
};

class UpstreamKeysTest : public ::testing::Test {
 protected:
  asio::io_context io{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard{
      io.get_executor()};
  std::thread thread{[this] { io.run(); }};
  Counters counters;
  NoDeliveries events;
  std::shared_ptr<QuietSmsc> smsc;
  std::shared_ptr<Pool> pool;

  UpstreamKeysTest() {
    on_io([&] {
      smsc = std::make_shared<QuietSmsc>(io);
      smsc->start();
    });
  }
  ~UpstreamKeysTest() override {
    on_io([&] {
      if (pool) pool->stop(50ms);
      smsc->stop();
    });
    std::this_thread::sleep_for(200ms);
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
