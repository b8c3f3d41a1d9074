// Test fixtures shared by the upstream tests: a pool owner that takes no deliveries, and a bare
// SMSC over loopback that binds anyone and answers every request with status 0, except
// enquire_link and submit_sm while it is told not to answer them (the simulator's sessions
// always answer enquire_link). It lives on the test's io_context; its coroutines keep it alive
// until stop().
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <array>
#include <atomic>
#include <future>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "smpp/codec.hpp"
#include "upstream/pool.hpp"

namespace smppd::upstream::testing {

using tcp = asio::ip::tcp;

struct NoDeliveries : PoolEvents {
  std::atomic<int> deliveries{0};
  uint32_t on_delivery(Pool&, smpp::Pdu&, const DeliveryReply&) override {
    ++deliveries;
    return 0;
  }
};

class BareSmsc : public std::enable_shared_from_this<BareSmsc> {
 public:
  explicit BareSmsc(asio::io_context& io)
      : acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}

  void start() {
    asio::co_spawn(acceptor_.get_executor(), accept(shared_from_this()), asio::detached);
  }
  // On the io thread.
  void stop() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    for (auto& s : sockets_) s->close(ignored);
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }

  std::atomic<bool> answer_enquire_link{true};
  std::atomic<bool> answer_submit{true};
  std::atomic<int> submits{0};                  // traffic received, answered or not
  std::atomic<int> probe_submits{0};            // health checks' submit_sm (to "0")
  std::atomic<int> connections{0};              // accepted
  std::atomic<int> bind_interface_version{-1};  // of the last bind_transceiver

 private:
  static constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

  asio::awaitable<void> accept(std::shared_ptr<BareSmsc> self) {
    while (true) {
      auto [ec, socket] = co_await acceptor_.async_accept(nothrow);
      if (ec) co_return;
      ++connections;
      sockets_.push_back(std::make_shared<tcp::socket>(std::move(socket)));
      asio::co_spawn(acceptor_.get_executor(), serve(self, sockets_.back()), asio::detached);
    }
  }

  asio::awaitable<void> serve(std::shared_ptr<BareSmsc> /*self*/,
                              std::shared_ptr<tcp::socket> socket) {
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
        if (const auto* bind = pdu.as<smpp::BindTransceiver>()) {
          bind_interface_version = bind->interface_version;
        }
        if (const auto* sm = pdu.as<smpp::SubmitSm>()) {
          ++(sm->destination_addr.view() == "0" ? probe_submits : submits);
          if (!answer_submit) continue;
        }
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

// The io_context of a test, run on a thread of its own; on_io() runs a function there and waits
// for it. A fixture derives from it and calls stop_io() last in its destructor.
class IoThread {
 protected:
  asio::io_context io{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard{
      io.get_executor()};
  std::thread thread{[this] { io.run(); }};

  template <class F>
  void on_io(F f) {
    std::promise<void> done;
    asio::post(io, [&] {
      f();
      done.set_value();
    });
    done.get_future().get();
  }

  void stop_io() {
    guard.reset();
    io.stop();
    thread.join();
  }
};

}  // namespace smppd::upstream::testing
