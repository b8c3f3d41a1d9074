// The simulator in-process, with ESMEs built on smppd's own session engine (role esme) over
// loopback: what the npm tests cannot reach — full windows, retries, the bounded queue,
// credentials, and the simulator's lifetime against its sessions'.
#include "sim/simulator.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "smpp/receipt.hpp"
#include "smpp/status.hpp"

namespace smppd::sim {
namespace {

namespace st = smpp::status;
using session::Session;

// What an ESME saw, kept outside the session (which owns its handler).
struct EsmeLog {
  std::optional<uint32_t> bind_status;
  std::vector<smpp::Pdu> delivered;  // deliver_sm received
  std::vector<uint32_t> held;        // sequence numbers left unanswered
  std::vector<smpp::Pdu> responses;  // to our requests
  bool answer_deliveries = true;
  bool closed = false;
  std::string closed_reason;
};

class EsmeHandler : public session::SessionHandler {
 public:
  explicit EsmeHandler(std::shared_ptr<EsmeLog> log) : log_(std::move(log)) {}
  void on_bind_response(Session&, const smpp::Pdu& r) override {
    log_->bind_status = r.command_status;
  }
  void on_request(Session& s, smpp::Pdu& request) override {
    if (request.command_id() != smpp::CommandId::deliver_sm) return;
    log_->delivered.push_back(request);
    if (log_->answer_deliveries) {
      answer(s, request.sequence_number);
    } else {
      log_->held.push_back(request.sequence_number);
    }
  }
  void on_response(Session&, uint64_t, session::Outcome, smpp::Pdu* response) override {
    if (response != nullptr) log_->responses.push_back(*response);
  }
  void on_closed(Session&, std::string_view reason) override {
    log_->closed = true;
    log_->closed_reason = reason;
  }

  static void answer(Session& s, uint32_t seq) {
    smpp::Pdu r = smpp::make_pdu(seq, smpp::DeliverSmResp{});
    s.respond(r);
  }

 private:
  std::shared_ptr<EsmeLog> log_;
};

struct Esme {
  std::shared_ptr<Session> session;
  std::shared_ptr<EsmeLog> log;
};

class SimulatorTest : public ::testing::Test {
 protected:
  // Runs the io_context until `done()` or 5 s; false on the deadline.
  bool run_until(const std::function<bool()>& done,
                 std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= end) return false;
      if (io_.stopped()) io_.restart();
      io_.run_one_for(std::chrono::milliseconds(10));
    }
    return true;
  }

  void start(config::SimulatorConfig config = {}, SimulatorOptions options = {}) {
    if (!options.first_message_id) options.first_message_id = 0x100;
    sim_.emplace(io_, config, options);
    endpoint_ = sim_->listen(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  }

  Esme connect(smpp::CommandId bind, std::string system_id = "esme", std::string password = "pw") {
    tcp::socket socket(io_);
    socket.connect(endpoint_);
    auto settings = std::make_shared<session::SessionSettings>();
    settings->role = session::Role::esme;
    Esme e;
    e.log = std::make_shared<EsmeLog>();
    e.session = std::make_shared<Session>(session::Transport(std::move(socket)), settings,
                                          std::make_unique<EsmeHandler>(e.log));
    e.session->start();
    smpp::BindFields fields;
    fields.system_id.assign(system_id);
    fields.password.assign(password);
    smpp::Pdu pdu;
    switch (bind) {
      case smpp::CommandId::bind_transmitter:
        pdu = smpp::make_pdu(0, smpp::BindTransmitter{fields});
        break;
      case smpp::CommandId::bind_receiver:
        pdu = smpp::make_pdu(0, smpp::BindReceiver{fields});
        break;
      default:
        pdu = smpp::make_pdu(0, smpp::BindTransceiver{fields});
        break;
    }
    e.session->bind(pdu, smpp::Version::v34);
    return e;
  }

  Esme bound(smpp::CommandId bind, std::string system_id = "esme") {
    Esme e = connect(bind, std::move(system_id));
    EXPECT_TRUE(run_until([&] { return e.log->bind_status.has_value(); }));
    EXPECT_EQ(e.log->bind_status, st::ESME_ROK);
    return e;
  }

  void submit(Esme& e, uint8_t registered_delivery, std::string text = "hi") {
    smpp::SubmitSm sm;
    sm.destination_addr.assign("123");
    sm.registered_delivery = registered_delivery;
    sm.short_message.assign(text);
    smpp::Pdu pdu = smpp::make_pdu(0, std::move(sm));
    ASSERT_EQ(e.session->send_request(pdu, 0), session::SendResult::sent);
  }

  asio::io_context io_;
  std::optional<Simulator> sim_;
  tcp::endpoint endpoint_;
};

TEST_F(SimulatorTest, ReceiptsWaitForAFreeWindowSlot) {
  config::SimulatorConfig config;
  config.receipt_delay = std::chrono::milliseconds(10);
  SimulatorOptions options;
  options.window_size = 2;
  start(config, options);
  Esme e = bound(smpp::CommandId::bind_transceiver);
  e.log->answer_deliveries = false;
  for (int i = 0; i < 5; ++i) submit(e, 1);
  ASSERT_TRUE(run_until([&] { return e.log->delivered.size() == 2 && sim_->stats().queued == 3; }));
  // Nothing more while the window is full.
  run_until([] { return false; }, std::chrono::milliseconds(50));
  EXPECT_EQ(e.log->delivered.size(), 2u);
  // Answering frees slots: on_window_open sends the rest.
  e.log->answer_deliveries = true;
  for (uint32_t seq : e.log->held) EsmeHandler::answer(*e.session, seq);
  ASSERT_TRUE(run_until([&] { return e.log->delivered.size() == 5; }));
  ASSERT_TRUE(run_until([&] { return sim_->stats().deliveries_acked == 5; }));
  EXPECT_EQ(sim_->stats().queued, 0u);
  // Every receipt carries a distinct id of the message it reports.
  std::vector<std::string> ids;
  for (const smpp::Pdu& p : e.log->delivered) {
    auto r = smpp::parse_receipt(*p.as<smpp::DeliverSm>());
    ASSERT_TRUE(r);
    ids.push_back(r->id);
  }
  EXPECT_EQ(ids,
            (std::vector<std::string>{"00000100", "00000101", "00000102", "00000103", "00000104"}));
}

TEST_F(SimulatorTest, UnansweredDeliveriesAreSentAgain) {
  config::SimulatorConfig config;
  config.receipt_delay = std::chrono::milliseconds(0);
  SimulatorOptions options;
  options.response_timeout = std::chrono::milliseconds(100);
  start(config, options);
  Esme e = bound(smpp::CommandId::bind_transceiver);
  e.log->answer_deliveries = false;
  submit(e, 1);
  ASSERT_TRUE(run_until([&] { return e.log->delivered.size() == 1; }));
  e.log->answer_deliveries = true;  // the retry is answered
  ASSERT_TRUE(run_until([&] { return e.log->delivered.size() == 2; }));
  ASSERT_TRUE(run_until([&] { return sim_->stats().deliveries_acked == 1; }));
  EXPECT_EQ(sim_->stats().deliveries_retried, 1u);
  EXPECT_EQ(e.log->delivered[0].as<smpp::DeliverSm>()->short_message,
            e.log->delivered[1].as<smpp::DeliverSm>()->short_message);
}

TEST_F(SimulatorTest, TheQueueIsBoundedAndOverflowIsCounted) {
  SimulatorOptions options;
  options.max_queued_deliveries = 2;
  start({}, options);
  EXPECT_TRUE(sim_->send_mo("1", "2", "first"));
  EXPECT_TRUE(sim_->send_mo("1", "2", "second"));
  EXPECT_FALSE(sim_->send_mo("1", "2", "third"));
  EXPECT_EQ(sim_->stats().queued, 2u);
  EXPECT_EQ(sim_->stats().deliveries_dropped, 1u);
  Esme e = bound(smpp::CommandId::bind_receiver);
  ASSERT_TRUE(run_until([&] { return e.log->delivered.size() == 2; }));
  EXPECT_EQ(e.log->delivered[0].as<smpp::DeliverSm>()->short_message.view(), "first");
  EXPECT_EQ(e.log->delivered[1].as<smpp::DeliverSm>()->short_message.view(), "second");
}

TEST_F(SimulatorTest, MosGoRoundRobinOverTheReceiversOfTheirSystemId) {
  start();
  Esme a = bound(smpp::CommandId::bind_receiver, "shop");
  Esme b = bound(smpp::CommandId::bind_transceiver, "shop");
  Esme other = bound(smpp::CommandId::bind_receiver, "bank");
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(sim_->send_mo("1", "2", "x", "shop"));
  ASSERT_TRUE(run_until([&] { return a.log->delivered.size() + b.log->delivered.size() == 4; }));
  EXPECT_EQ(a.log->delivered.size(), 2u);
  EXPECT_EQ(b.log->delivered.size(), 2u);
  EXPECT_TRUE(other.log->delivered.empty());
}

TEST_F(SimulatorTest, CredentialsWhenConfigured) {
  SimulatorOptions options;
  options.credentials = {{"alice", "secret"}};
  start({}, options);
  Esme unknown = connect(smpp::CommandId::bind_transceiver, "mallory", "secret");
  Esme wrong = connect(smpp::CommandId::bind_transceiver, "alice", "guess");
  Esme right = connect(smpp::CommandId::bind_transceiver, "alice", "secret");
  ASSERT_TRUE(run_until([&] {
    return unknown.log->bind_status && wrong.log->bind_status && right.log->bind_status;
  }));
  EXPECT_EQ(unknown.log->bind_status, st::ESME_RINVSYSID);
  EXPECT_EQ(wrong.log->bind_status, st::ESME_RINVPASWD);
  EXPECT_EQ(right.log->bind_status, st::ESME_ROK);
  EXPECT_TRUE(run_until([&] { return unknown.log->closed && wrong.log->closed; }));
  EXPECT_EQ(sim_->stats().binds_refused, 2u);
}

TEST_F(SimulatorTest, QueueFullAnswersMsgQFul) {
  config::SimulatorConfig config;
  config.receipt_delay = std::chrono::seconds(60);
  SimulatorOptions options;
  options.max_pending_messages = 2;
  start(config, options);
  Esme e = bound(smpp::CommandId::bind_transmitter);
  for (int i = 0; i < 3; ++i) submit(e, 0);
  ASSERT_TRUE(run_until([&] { return e.log->responses.size() == 3; }));
  EXPECT_EQ(e.log->responses[0].command_status, st::ESME_ROK);
  EXPECT_EQ(e.log->responses[1].command_status, st::ESME_ROK);
  EXPECT_EQ(e.log->responses[2].command_status, st::ESME_RMSGQFUL);
  EXPECT_EQ(sim_->stats().queue_full, 1u);
}

TEST_F(SimulatorTest, StopUnbindsAndLeavesNoWork) {
  config::SimulatorConfig config;
  config.mo_interval = std::chrono::milliseconds(50);
  config.receipt_delay = std::chrono::seconds(60);
  start(config);
  Esme e = bound(smpp::CommandId::bind_transceiver);
  submit(e, 1);
  ASSERT_TRUE(run_until([&] { return e.log->responses.size() == 1; }));
  sim_->stop(std::chrono::seconds(2));
  ASSERT_TRUE(run_until([&] { return e.log->closed; }));
  EXPECT_EQ(e.session->state(), session::BindState::closed);
  // Unbound by the simulator (the ESME answered), not dropped.
  EXPECT_EQ(e.log->closed_reason, "unbound by the peer");
  // Nothing of the simulator keeps the io_context busy any more.
  e.session.reset();
  io_.restart();
  const auto started = std::chrono::steady_clock::now();
  io_.run_for(std::chrono::seconds(3));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
  EXPECT_EQ(sim_->session_count(), 0u);
}

TEST_F(SimulatorTest, DestroyedWithSessionsStillOpen) {
  config::SimulatorConfig config;
  config.mo_interval = std::chrono::milliseconds(10);
  start(config);
  Esme e = bound(smpp::CommandId::bind_transceiver);
  Esme pending = connect(smpp::CommandId::bind_receiver);  // not bound yet
  ASSERT_TRUE(run_until([&] { return e.log->delivered.size() >= 1; }));
  // Both sessions are open at the simulator when it goes.
  ASSERT_TRUE(run_until([&] { return sim_->session_count() == 2; }));
  ASSERT_FALSE(e.log->closed);
  ASSERT_FALSE(pending.log->closed);
  sim_.reset();  // closes its sessions at once; their coroutines end when the io_context runs
  ASSERT_TRUE(run_until([&] { return e.log->closed && pending.log->closed; }));
  e.session.reset();
  pending.session.reset();
  io_.restart();
  io_.run_for(std::chrono::milliseconds(200));
}

TEST_F(SimulatorTest, RejectsAnInvalidConfiguration) {
  config::SimulatorConfig config;
  config.throttle_rate = 70;
  config.error_rate = 40;
  EXPECT_THROW(Simulator(io_, config), std::invalid_argument);
}

}  // namespace
}  // namespace smppd::sim
