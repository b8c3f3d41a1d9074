// The session engine over real loopback sockets: our Session on one side, a raw blocking
// socket that speaks bytes on the other (so every reaction of the session is visible).
#include "session/session.hpp"

#include <gtest/gtest.h>
#include <linux/sockios.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

#include "epoll_events.hpp"
#include "smpp/codec.hpp"
#include "smpp/status.hpp"

namespace smppd::session {
namespace {

namespace st = smpp::status;
using smpp::CommandId;

// What the handler saw, readable from the test thread.
struct Events {
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<smpp::Pdu> requests;
  std::vector<std::pair<uint64_t, Outcome>> outcomes;
  std::vector<uint32_t> binds;
  std::string closed_reason;
  bool closed = false;
  int window_open = 0;

  template <class Pred>
  bool wait(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, timeout, pred);
  }
};

struct TestHandler : SessionHandler {
  std::shared_ptr<Events> events;
  uint32_t bind_status = st::ESME_ROK;
  bool hold_requests = false;  // keep requests unanswered (the test answers them)

  explicit TestHandler(std::shared_ptr<Events> e) : events(std::move(e)) {}

  asio::awaitable<uint32_t> on_bind(Session&, const BindRequest& b) override {
    std::lock_guard lock(events->mutex);
    events->binds.push_back(b.interface_version);
    events->cv.notify_all();
    co_return bind_status;
  }
  void on_request(Session& s, smpp::Pdu& request) override {
    {
      std::lock_guard lock(events->mutex);
      events->requests.push_back(request);
      events->cv.notify_all();
    }
    if (!hold_requests) {
      smpp::Pdu r =
          smpp::make_response(request.command_id(), request.sequence_number, st::ESME_ROK);
      s.respond(r);
    }
  }
  void on_response(Session&, uint64_t cookie, Outcome o, smpp::Pdu*) override {
    std::lock_guard lock(events->mutex);
    events->outcomes.emplace_back(cookie, o);
    events->cv.notify_all();
  }
  void on_window_open(Session&) override {
    std::lock_guard lock(events->mutex);
    ++events->window_open;
    events->cv.notify_all();
  }
  void on_closed(Session&, std::string_view reason) override {
    std::lock_guard lock(events->mutex);
    events->closed = true;
    events->closed_reason = reason;
    events->cv.notify_all();
  }
};

// A session (smsc role unless changed) on its own thread, and a raw client socket.
class SessionTest : public ::testing::Test {
 protected:
  SessionSettings settings;
  std::shared_ptr<Events> events = std::make_shared<Events>();
  asio::io_context io{1};
  std::thread thread;
  std::shared_ptr<Session> session;
  asio::io_context client_io;
  tcp::socket client{client_io};
  std::function<void(TestHandler&)> tune;
  int small_buffers = 0;  // > 0: socket buffers of about this size on both ends
  int server_fd = -1;     // the session's socket

  void SetUp() override {
    settings.versions = {smpp::Version::v33, smpp::Version::v34, smpp::Version::v50};
  }

  void start() {
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    if (small_buffers > 0) {
      client.open(tcp::v4());
      client.set_option(asio::socket_base::receive_buffer_size(small_buffers));
    }
    client.connect(acceptor.local_endpoint());
    tcp::socket server_side = acceptor.accept();
    if (small_buffers > 0) {
      server_side.set_option(asio::socket_base::send_buffer_size(small_buffers));
    }
    server_fd = server_side.native_handle();
    auto handler = std::make_unique<TestHandler>(events);
    if (tune) tune(*handler);
    session =
        std::make_shared<Session>(Transport(std::move(server_side)),
                                  std::make_shared<SessionSettings>(settings), std::move(handler));
    asio::post(io, [s = session] { s->start(); });
    thread = std::thread([this] { io.run(); });
    timeval tv{5, 0};
    setsockopt(client.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }

  void TearDown() override {
    if (session) asio::post(io, [s = session] { s->close("test over"); });
    session.reset();
    if (thread.joinable()) thread.join();
  }

  // Runs f on the session's thread and waits for it.
  template <class F>
  auto on_session(F f) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    asio::post(io, [&task] { task(); });
    return result.get();
  }

  void send(smpp::Pdu pdu) { send_bytes(smpp::encode(pdu)); }
  void send_bytes(const std::vector<uint8_t>& bytes) { asio::write(client, asio::buffer(bytes)); }

  // The next PDU from the session; fails the test on timeout or close.
  smpp::Pdu receive() {
    uint8_t header[16];
    boost::system::error_code ec;
    asio::read(client, asio::buffer(header), ec);
    EXPECT_FALSE(ec) << ec.message();
    if (ec) return {};
    const uint32_t len = uint32_t(header[0]) << 24 | uint32_t(header[1]) << 16 |
                         uint32_t(header[2]) << 8 | header[3];
    std::vector<uint8_t> bytes(header, header + 16);
    bytes.resize(len);
    if (len > 16) asio::read(client, asio::buffer(bytes.data() + 16, len - 16), ec);
    smpp::Pdu pdu;
    smpp::DecodeError err;
    EXPECT_TRUE(smpp::decode(bytes, pdu, err)) << err.reason;
    return pdu;
  }

  // True when the session closed the connection (EOF within the timeout).
  bool peer_closed() {
    uint8_t b;
    boost::system::error_code ec;
    client.read_some(asio::buffer(&b, 1), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }

  smpp::Pdu bind_trx(uint32_t seq, uint8_t interface_version = 0x34) {
    smpp::BindTransceiver b;
    b.system_id.assign("client");
    b.password.assign("secret");
    b.interface_version = interface_version;
    send(smpp::make_pdu(seq, b));
    return receive();
  }

  static smpp::Pdu submit(uint32_t seq) {
    smpp::SubmitSm s;
    s.source_addr.assign("123");
    s.destination_addr.assign("456");
    s.short_message.assign("hi");
    return smpp::make_pdu(seq, s);
  }
};

TEST_F(SessionTest, BindsAndAnswersWithScInterfaceVersion) {
  start();
  smpp::Pdu resp = bind_trx(1);
  ASSERT_EQ(resp.command_id(), CommandId::bind_transceiver_resp);
  EXPECT_EQ(resp.command_status, st::ESME_ROK);
  EXPECT_EQ(resp.sequence_number, 1u);
  auto* body = resp.as<smpp::BindTransceiverResp>();
  ASSERT_NE(body, nullptr);
  EXPECT_EQ(body->system_id.view(), "smppd");
  EXPECT_EQ(body->tlvs.get(smpp::tlv::sc_interface_version), uint8_t{0x34});
  EXPECT_EQ(on_session([&] { return session->state(); }), BindState::bound_trx);
}

TEST_F(SessionTest, ThreeThreeBindGetsNoTlvs) {
  start();
  smpp::Pdu resp = bind_trx(1, 0x33);
  auto* body = resp.as<smpp::BindTransceiverResp>();
  ASSERT_NE(body, nullptr);
  EXPECT_TRUE(body->tlvs.empty());
  EXPECT_EQ(on_session([&] { return session->version(); }), smpp::Version::v33);
}

TEST_F(SessionTest, UnservedVersionNegotiatesDownOrIsRefused) {
  settings.versions = {smpp::Version::v34};
  start();
  smpp::Pdu resp = bind_trx(1, 0x50);  // 5.0 asked, 3.4 served
  EXPECT_EQ(resp.command_status, st::ESME_ROK);
  EXPECT_EQ(resp.as<smpp::BindTransceiverResp>()->tlvs.get(smpp::tlv::sc_interface_version),
            uint8_t{0x34});
}

TEST_F(SessionTest, VersionBelowEveryServedOneIsRefusedWithHeaderOnlyResponse) {
  settings.versions = {smpp::Version::v34, smpp::Version::v50};
  start();
  smpp::BindTransmitter b;
  b.system_id.assign("client");
  b.interface_version = 0x33;
  send(smpp::make_pdu(7, b));
  uint8_t header[16];
  asio::read(client, asio::buffer(header));
  EXPECT_EQ(header[3], 16);  // command_length 16: no body after a failed bind
  EXPECT_EQ(header[11], st::ESME_RBINDFAIL);
  EXPECT_TRUE(peer_closed());
}

TEST_F(SessionTest, RefusedBindClosesAfterTheResponse) {
  tune = [](TestHandler& h) { h.bind_status = st::ESME_RINVPASWD; };
  start();
  smpp::Pdu resp = bind_trx(3);
  EXPECT_EQ(resp.command_status, st::ESME_RINVPASWD);
  EXPECT_EQ(resp.sequence_number, 3u);
  EXPECT_TRUE(peer_closed());
  EXPECT_TRUE(events->wait([&] { return events->closed; }));
}

TEST_F(SessionTest, SubmitBeforeBindIsWrongState) {
  start();
  send(submit(5));
  smpp::Pdu resp = receive();
  EXPECT_EQ(resp.command_id(), CommandId::submit_sm_resp);
  EXPECT_EQ(resp.command_status, st::ESME_RINVBNDSTS);
  EXPECT_EQ(resp.sequence_number, 5u);
}

TEST_F(SessionTest, SecondBindIsAlreadyBound) {
  start();
  bind_trx(1);
  smpp::Pdu resp = bind_trx(2);
  EXPECT_EQ(resp.command_status, st::ESME_RALYBND);
  send(submit(3));  // still bound and working
  EXPECT_EQ(receive().command_status, st::ESME_ROK);
}

TEST_F(SessionTest, ReceiverCannotSubmit) {
  start();
  smpp::BindReceiver b;
  b.system_id.assign("client");
  b.interface_version = 0x34;
  send(smpp::make_pdu(1, b));
  EXPECT_EQ(receive().command_status, st::ESME_ROK);
  send(submit(2));
  smpp::Pdu resp = receive();
  EXPECT_EQ(resp.command_status, st::ESME_RINVBNDSTS);
  std::lock_guard lock(events->mutex);
  EXPECT_TRUE(events->requests.empty());
}

TEST_F(SessionTest, EnquireLinkAnsweredInOpenAndBound) {
  start();
  send(smpp::make_pdu(9, smpp::EnquireLink{}));
  smpp::Pdu r = receive();
  EXPECT_EQ(r.command_id(), CommandId::enquire_link_resp);
  EXPECT_EQ(r.sequence_number, 9u);
  bind_trx(10);
  send(smpp::make_pdu(11, smpp::EnquireLink{}));
  EXPECT_EQ(receive().command_id(), CommandId::enquire_link_resp);
}

// A peer that does not read fills the socket: the writer waits for room through the reactor,
// which then watches the socket for writability too. Once the writer is through, the reader
// undoes that before its next wait, and every byte arrived, in order.
TEST_F(SessionTest, AfterAWriteThatWaitedForRoomTheSocketIsWatchedForInputOnly) {
  small_buffers = 4096;
  start();
  bind_trx(1);
  constexpr uint32_t kCount = 20000;  // 320 KB of enquire_link_resp
  std::vector<uint8_t> requests;
  for (uint32_t seq = 2; seq < 2 + kCount; ++seq) {
    const auto bytes = smpp::encode(smpp::make_pdu(seq, smpp::EnquireLink{}));
    requests.insert(requests.end(), bytes.begin(), bytes.end());
  }
  send_bytes(requests);
  // The session's writer now waits for room, watched for writability.
  bool watched = false;
  for (int i = 0; i < 500 && !watched; ++i) {
    const auto watching = smppd::testing::epoll_events_of(server_fd);
    watched = watching && (*watching & EPOLLOUT) != 0;
    if (!watched) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(watched) << "the writer never had to wait: the test proves nothing";
  for (uint32_t seq = 2; seq < 2 + kCount; ++seq) {
    const smpp::Pdu r = receive();
    ASSERT_EQ(r.command_id(), CommandId::enquire_link_resp);
    ASSERT_EQ(r.sequence_number, seq);
  }
  // One more exchange: the reader passes its wait again.
  send(smpp::make_pdu(2 + kCount, smpp::EnquireLink{}));
  EXPECT_EQ(receive().sequence_number, 2 + kCount);
  const auto watching = smppd::testing::epoll_events_of(server_fd);
  ASSERT_TRUE(watching.has_value());
  EXPECT_EQ(*watching & EPOLLOUT, 0u);
  EXPECT_NE(*watching & EPOLLIN, 0u);
}

TEST_F(SessionTest, SendsEnquireLinkAfterSilenceAndClosesWithoutAnswer) {
  settings.enquire_link_interval = 100ms;
  settings.enquire_link_timeout = 150ms;
  start();
  bind_trx(1);
  smpp::Pdu e = receive();
  ASSERT_EQ(e.command_id(), CommandId::enquire_link);
  send(smpp::make_response(CommandId::enquire_link, e.sequence_number, st::ESME_ROK));
  smpp::Pdu e2 = receive();  // answered: the next one comes after another silence
  ASSERT_EQ(e2.command_id(), CommandId::enquire_link);
  EXPECT_NE(e2.sequence_number, e.sequence_number);
  // Not answered this time: the session closes.
  ASSERT_TRUE(events->wait([&] { return events->closed; }));
  {
    std::lock_guard lock(events->mutex);
    EXPECT_NE(events->closed_reason.find("enquire_link"), std::string::npos)
        << events->closed_reason;
  }
  EXPECT_TRUE(peer_closed());
}

TEST_F(SessionTest, NoBindWithinTheBindTimeoutCloses) {
  settings.bind_timeout = 100ms;
  start();
  EXPECT_TRUE(peer_closed());
  ASSERT_TRUE(events->wait([&] { return events->closed; }));
  std::lock_guard lock(events->mutex);
  EXPECT_NE(events->closed_reason.find("bind timeout"), std::string::npos);
}

TEST_F(SessionTest, UnbindIsAnsweredThenClosed) {
  start();
  bind_trx(1);
  send(smpp::make_pdu(2, smpp::Unbind{}));
  smpp::Pdu r = receive();
  EXPECT_EQ(r.command_id(), CommandId::unbind_resp);
  EXPECT_EQ(r.sequence_number, 2u);
  EXPECT_TRUE(peer_closed());
}

TEST_F(SessionTest, UnknownCommandIdGetsGenericNackAndSessionGoesOn) {
  start();
  bind_trx(1);
  send_bytes({0, 0, 0, 16, 0x00, 0x00, 0x77, 0x77, 0, 0, 0, 0, 0, 0, 0, 42});
  smpp::Pdu r = receive();
  EXPECT_EQ(r.command_id(), CommandId::generic_nack);
  EXPECT_EQ(r.command_status, st::ESME_RINVCMDID);
  EXPECT_EQ(r.sequence_number, 42u);
  send(submit(43));
  EXPECT_EQ(receive().command_status, st::ESME_ROK);
}

TEST_F(SessionTest, BadFieldGetsItsOwnResponse) {
  start();
  bind_trx(1);
  smpp::Pdu s = submit(5);
  s.as<smpp::SubmitSm>()->schedule_delivery_time.assign("garbage");
  send(s);
  smpp::Pdu r = receive();
  EXPECT_EQ(r.command_id(), CommandId::submit_sm_resp);
  EXPECT_EQ(r.command_status, st::ESME_RINVSCHED);
}

TEST_F(SessionTest, OversizedCommandLengthIsNackedThenClosed) {
  settings.max_pdu_size = 4096;
  start();
  bind_trx(1);
  send_bytes({0x00, 0x10, 0x00, 0x00, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 8});
  smpp::Pdu r = receive();
  EXPECT_EQ(r.command_id(), CommandId::generic_nack);
  EXPECT_EQ(r.command_status, st::ESME_RINVCMDLEN);
  EXPECT_TRUE(peer_closed());
}

TEST_F(SessionTest, FullInboundWindowStopsReading) {
  settings.window_size = 3;
  tune = [](TestHandler& h) { h.hold_requests = true; };
  start();
  bind_trx(1);
  for (uint32_t seq = 10; seq < 20; ++seq) send(submit(seq));
  ASSERT_TRUE(events->wait([&] { return events->requests.size() == 3; }));
  std::this_thread::sleep_for(100ms);  // time for more to arrive, if the window leaked
  {
    std::lock_guard lock(events->mutex);
    EXPECT_EQ(events->requests.size(), 3u);  // the other 7 wait in the socket
  }
  // Answer one: exactly one more comes in.
  on_session([&] {
    smpp::Pdu r = smpp::make_response(CommandId::submit_sm, 10, st::ESME_ROK);
    return session->respond(r);
  });
  EXPECT_EQ(receive().sequence_number, 10u);
  ASSERT_TRUE(events->wait([&] { return events->requests.size() == 4; }));
  std::this_thread::sleep_for(50ms);
  std::lock_guard lock(events->mutex);
  EXPECT_EQ(events->requests.size(), 4u);
  EXPECT_EQ(events->requests.back().sequence_number, 13u);
}

TEST_F(SessionTest, ASharedWindowRefusesBeyondItsLimitAndGivesBackWhatIsLeftAtClose) {
  // The client's window across its sessions holds 4, 2 of them taken by its other sessions.
  auto shared = std::make_shared<SharedWindow>();
  shared->limit = 4;
  shared->in_flight = 2;
  tune = [](TestHandler& h) { h.hold_requests = true; };
  start();
  bind_trx(1);
  on_session([&] {
    session->share_window(shared);
    return 0;
  });
  for (uint32_t seq = 10; seq < 13; ++seq) send(submit(seq));
  // Two fit; the third is answered ESME_RMSGQFUL by the session, without the handler.
  smpp::Pdu refused = receive();
  EXPECT_EQ(refused.command_id(), CommandId::submit_sm_resp);
  EXPECT_EQ(refused.command_status, st::ESME_RMSGQFUL);
  EXPECT_EQ(refused.sequence_number, 12u);
  ASSERT_TRUE(events->wait([&] { return events->requests.size() == 2; }));
  EXPECT_EQ(shared->in_flight.load(), 4u);
  EXPECT_EQ(shared->refused.load(), 1u);
  // An answer frees a place for the next request.
  on_session([&] {
    smpp::Pdu r = smpp::make_response(CommandId::submit_sm, 10, st::ESME_ROK);
    return session->respond(r);
  });
  EXPECT_EQ(receive().sequence_number, 10u);
  EXPECT_EQ(shared->in_flight.load(), 3u);
  send(submit(13));
  ASSERT_TRUE(events->wait([&] { return events->requests.size() == 3; }));
  EXPECT_EQ(shared->in_flight.load(), 4u);
  // The session closes with two unanswered: they are given back, once. (In the same task: once
  // closed, the session's thread may have nothing left to run.)
  const uint64_t refused_before_close = on_session([&] {
    session->close("test");
    smpp::Pdu late = smpp::make_response(CommandId::submit_sm, 11, st::ESME_ROK);
    session->respond(late);
    return session->stats().refused_shared_window;
  });
  EXPECT_EQ(shared->in_flight.load(), 2u);
  EXPECT_EQ(refused_before_close, 1u);
}

TEST_F(SessionTest, OutboundWindowTimeoutsAndClose) {
  settings.window_size = 2;
  settings.response_timeout = 150ms;
  settings.enquire_link_interval = 0ms;
  start();
  bind_trx(1);
  auto deliver = [] {
    smpp::DeliverSm d;
    d.source_addr.assign("1");
    d.destination_addr.assign("2");
    return smpp::make_pdu(0, d);
  };
  auto results = on_session([&] {
    std::vector<SendResult> r;
    for (uint64_t cookie = 1; cookie <= 3; ++cookie) {
      smpp::Pdu d = deliver();
      r.push_back(session->send_request(d, cookie));
    }
    return r;
  });
  EXPECT_EQ(results[0], SendResult::sent);
  EXPECT_EQ(results[1], SendResult::sent);
  EXPECT_EQ(results[2], SendResult::window_full);
  smpp::Pdu first = receive();
  smpp::Pdu second = receive();
  EXPECT_NE(first.sequence_number, second.sequence_number);
  send(smpp::make_response(CommandId::deliver_sm, second.sequence_number, st::ESME_ROK));
  // The answered one is a response; the other times out; the window opened once.
  ASSERT_TRUE(events->wait([&] { return events->outcomes.size() == 2; }));
  std::lock_guard lock(events->mutex);
  EXPECT_EQ(events->outcomes[0], std::make_pair(uint64_t{2}, Outcome::response));
  EXPECT_EQ(events->outcomes[1], std::make_pair(uint64_t{1}, Outcome::timeout));
  EXPECT_GE(events->window_open, 1);
}

TEST_F(SessionTest, ProbesGoOutsideTheWindowAndTheirTimeoutClosesNothing) {
  settings.window_size = 1;
  settings.response_timeout = 5s;
  settings.enquire_link_interval = 0ms;
  start();
  bind_trx(1);
  auto results = on_session([&] {
    smpp::DeliverSm d;
    d.destination_addr.assign("2");
    smpp::Pdu deliver = smpp::make_pdu(0, d);
    smpp::Pdu probe = smpp::make_pdu(0, smpp::EnquireLink{});
    smpp::Pdu second = smpp::make_pdu(0, smpp::EnquireLink{});
    return std::vector<SendResult>{session->send_request(deliver, 1),  // fills the window
                                   session->send_probe(probe, 7, 100ms),
                                   session->send_probe(second, 8, 100ms)};  // one at a time
  });
  EXPECT_EQ(results,
            (std::vector<SendResult>{SendResult::sent, SendResult::sent, SendResult::window_full}));
  EXPECT_EQ(receive().command_id(), CommandId::deliver_sm);
  EXPECT_EQ(receive().command_id(), CommandId::enquire_link);
  // Unanswered: the probe times out, the session stays open.
  ASSERT_TRUE(events->wait([&] { return !events->outcomes.empty(); }));
  {
    std::lock_guard lock(events->mutex);
    EXPECT_EQ(events->outcomes[0], std::make_pair(uint64_t{7}, Outcome::timeout));
    EXPECT_FALSE(events->closed);
  }
  // The next one is answered (any status counts as an answer).
  EXPECT_EQ(on_session([&] {
              smpp::Pdu probe = smpp::make_pdu(0, smpp::EnquireLink{});
              return session->send_probe(probe, 9, 5s);
            }),
            SendResult::sent);
  smpp::Pdu e = receive();
  ASSERT_EQ(e.command_id(), CommandId::enquire_link);
  send(smpp::make_response(CommandId::enquire_link, e.sequence_number, st::ESME_RSYSERR));
  ASSERT_TRUE(events->wait([&] { return events->outcomes.size() == 2; }));
  std::lock_guard lock(events->mutex);
  EXPECT_EQ(events->outcomes[1], std::make_pair(uint64_t{9}, Outcome::response));
  EXPECT_FALSE(events->closed);
}

TEST_F(SessionTest, ShutdownUnbindsAndWaitsForTheAnswer) {
  start();
  bind_trx(1);
  on_session([&] {
    session->shutdown(2s);
    return 0;
  });
  smpp::Pdu u = receive();
  ASSERT_EQ(u.command_id(), CommandId::unbind);
  send(smpp::make_response(CommandId::unbind, u.sequence_number, st::ESME_ROK));
  EXPECT_TRUE(peer_closed());
  EXPECT_TRUE(events->wait([&] { return events->closed; }));
}

// Each byte is sent alone (TCP_NODELAY) and read by the session before the next is sent: the
// client's kernel has it acknowledged, and nothing is left unread in the session's socket.
TEST_F(SessionTest, BytesOneAtATimeMakeTheSamePdus) {
  start();
  client.set_option(tcp::no_delay(true));
  smpp::BindTransceiver b;
  b.system_id.assign("client");
  b.interface_version = 0x34;
  auto bytes = smpp::encode(smpp::make_pdu(1, b));
  const auto queued = [](int fd, unsigned long request) {
    int n = -1;
    return ::ioctl(fd, request, &n) == 0 ? n : -1;
  };
  for (uint8_t byte : bytes) {
    {
      std::lock_guard lock(events->mutex);
      ASSERT_TRUE(events->binds.empty()) << "bound before the last byte";
    }
    send_bytes({byte});
    const auto until = std::chrono::steady_clock::now() + 5s;
    while (queued(client.native_handle(), SIOCOUTQ) != 0 || queued(server_fd, SIOCINQ) != 0) {
      ASSERT_LT(std::chrono::steady_clock::now(), until) << "the session did not read the byte";
      std::this_thread::sleep_for(1ms);
    }
  }
  EXPECT_EQ(receive().command_status, st::ESME_ROK);
}

TEST(OutboundWindowTest, FindsOutOfOrderResponsesAndWraps) {
  OutboundWindow w(4);
  const auto t0 = Clock::now();
  uint32_t seq = 0x7FFFFFFE;
  std::vector<uint32_t> seqs;
  for (int i = 0; i < 4; ++i) {
    w.push(seq, CommandId::submit_sm, static_cast<uint64_t>(i), t0 + std::chrono::milliseconds(i));
    seqs.push_back(seq);
    seq = next_sequence(seq);
  }
  EXPECT_TRUE(w.full());
  EXPECT_EQ(seqs[2], 1u);  // wrapped past 0x7FFFFFFF to 1
  EXPECT_EQ(w.take(seqs[2])->cookie, 2u);
  EXPECT_FALSE(w.take(seqs[2]));  // answered once only
  EXPECT_EQ(w.oldest()->seq, seqs[0]);
  EXPECT_EQ(w.take(seqs[0])->cookie, 0u);
  EXPECT_EQ(w.oldest()->seq, seqs[1]);
  // Many more requests behind a slow one: the ring stays bounded.
  for (int i = 0; i < 1000; ++i) {
    w.push(seq, CommandId::submit_sm, 100, t0);
    ASSERT_TRUE(w.take(seq));
    seq = next_sequence(seq);
  }
  EXPECT_EQ(w.size(), 2u);
  EXPECT_EQ(w.pop_oldest()->seq, seqs[1]);
  EXPECT_EQ(w.pop_oldest()->seq, seqs[3]);
  EXPECT_TRUE(w.empty());
}

TEST(BindStateTest, Table) {
  EXPECT_TRUE(peer_may_send(Role::smsc, BindState::bound_tx, CommandId::submit_sm));
  EXPECT_FALSE(peer_may_send(Role::smsc, BindState::bound_rx, CommandId::submit_sm));
  EXPECT_FALSE(peer_may_send(Role::smsc, BindState::open, CommandId::submit_sm));
  EXPECT_TRUE(peer_may_send(Role::smsc, BindState::open, CommandId::enquire_link));
  EXPECT_FALSE(peer_may_send(Role::smsc, BindState::bound_trx, CommandId::deliver_sm));
  EXPECT_TRUE(peer_may_send(Role::esme, BindState::bound_rx, CommandId::deliver_sm));
  EXPECT_FALSE(peer_may_send(Role::esme, BindState::bound_tx, CommandId::deliver_sm));
  EXPECT_TRUE(we_may_send(Role::smsc, BindState::bound_trx, CommandId::deliver_sm));
  EXPECT_FALSE(we_may_send(Role::smsc, BindState::bound_tx, CommandId::deliver_sm));
  EXPECT_TRUE(peer_may_send(Role::smsc, BindState::bound_rx, CommandId::unbind));
  EXPECT_FALSE(peer_may_send(Role::smsc, BindState::open, CommandId::unbind));
}

}  // namespace
}  // namespace smppd::session
