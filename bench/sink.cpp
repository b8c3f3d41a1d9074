// smpp_sink: the fastest SMSC we can put behind smppd in a benchmark. It accepts any bind,
// answers submit_sm and data_sm at once with sequential message ids, and when
// registered_delivery asks for it sends a delivery receipt (deliver_sm, esm_class 0x04,
// receipted_message_id and message_state TLVs, Appendix B text) to a receiver or transceiver
// session of the same system_id (round robin, or with --receipt-session same the one that
// submitted), at once or after --receipt-delay. Round robin is what many SMSCs do, and with no
// delay it is the harsh case for a proxy: the receipt may come in on another connection before
// the submit_sm_resp has been handled on its own.
//
//   smpp_sink [--listen 127.0.0.1:2775] [--receipt-delay 0ms] [--receipt-session any|same]
//             [--window 1000]
//
// It prints "sink listening on HOST:PORT" once it accepts connections (port 0 picks a free
// one), and its counts when SIGINT or SIGTERM stops it. src/sim is the full simulator (outcomes,
// query_sm, MO traffic, throttling); the sink does only what a throughput test needs, with no
// allocation per message: the response and receipt PDUs are reused, delayed receipts wait in
// one ring and go out in batches from one timer (at most one wake-up a millisecond),
// and receipts for a receiver whose window is full wait in a ring of its system_id.
//
// One thread: it serves well over a million submit_sm a second without receipts and half a
// million with (bench/README.md), far above what it is meant to stand behind; one thread also
// lets a receipt go to any session of its system_id without a hand-off between threads.
#include <signal.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "load/args.hpp"
#include "load/fifo.hpp"
#include "load/process.hpp"
#include "session/session.hpp"
#include "smpp/receipt.hpp"
#include "smpp/status.hpp"

namespace {

namespace asio = boost::asio;
using namespace smppd::session;
using smppd::bench::Fifo;
using tcp = asio::ip::tcp;
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

struct SinkOptions {
  std::string listen = "127.0.0.1:2775";
  std::string system_id = "sink";
  std::chrono::milliseconds receipt_delay{0};
  uint32_t window = 1000;
  std::size_t max_queued = 1'000'000;  // receipts waiting for a receiver, per system_id
  // Receipts go back on the session that submitted when it can take them (a transceiver with
  // room in its window); otherwise, and by default, round robin over the system_id's receivers.
  bool same_session = false;
};

struct SinkStats {
  uint64_t sessions = 0;
  uint64_t binds = 0;
  uint64_t submits = 0;
  uint64_t other_requests = 0;
  uint64_t receipts_sent = 0;
  uint64_t receipts_acked = 0;
  uint64_t receipts_failed = 0;   // answered with an error, timed out or closed
  uint64_t receipts_dropped = 0;  // the queue of their system_id was full
  uint64_t receipts_queued = 0;   // gauge at exit: waiting for a receiver or their time
};

struct Group;

// What a receipt needs from its submit_sm, copied out of the decoded PDU (which is reused).
struct PendingReceipt {
  Clock::time_point due{};
  uint64_t id = 0;
  int64_t submit_unix = 0;
  Group* group = nullptr;
  uint64_t origin = 0;  // Session::id() of the session that submitted
  smpp::Address from;   // the original destination (the handset)
  smpp::Address to;     // the original source
  uint8_t from_ton = 0, from_npi = 0, to_ton = 0, to_npi = 0;
  uint8_t text_len = 0;
  char text[20] = {};
};

// The sessions of one system_id (on one thread) that take receipts, and the receipts waiting
// for one of them to have room.
struct Group {
  std::vector<Session*> receivers;
  std::size_t next = 0;
  Fifo<PendingReceipt> backlog;
};

// YYMMDDhhmm of a Unix time (UTC), cached for the minute it belongs to.
class ReceiptDate {
 public:
  std::string_view of(int64_t unix_seconds) {
    const int64_t minute = unix_seconds / 60;
    if (minute != minute_) {
      minute_ = minute;
      const std::time_t t = static_cast<std::time_t>(minute * 60);
      std::tm tm{};
      gmtime_r(&t, &tm);
      const int fields[5] = {tm.tm_year % 100, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min};
      for (int i = 0; i < 5; ++i) {
        text_[2 * i] = static_cast<char>('0' + fields[i] / 10);
        text_[2 * i + 1] = static_cast<char>('0' + fields[i] % 10);
      }
    }
    return {text_, 10};
  }

 private:
  int64_t minute_ = -1;
  char text_[10] = {};
};

// Builds receipts into one reused deliver_sm, in exactly the form smpp::fill_receipt writes
// (checked at start-up by receipt_builder_matches_fill_receipt), without its allocations.
class ReceiptBuilder {
 public:
  ReceiptBuilder() {
    smpp::DeliverSm d;
    d.esm_class = smpp::esm_class::kDeliveryReceipt;
    pdu_ = smpp::make_pdu(0, std::move(d));
  }

  smpp::Pdu& build(const PendingReceipt& r, int64_t now_unix) {
    auto& d = *pdu_.as<smpp::DeliverSm>();
    d.source_addr_ton = r.from_ton;
    d.source_addr_npi = r.from_npi;
    d.source_addr = r.from;
    d.dest_addr_ton = r.to_ton;
    d.dest_addr_npi = r.to_npi;
    d.destination_addr = r.to;
    char id[24];
    const auto id_end = std::to_chars(id, id + sizeof id, r.id).ptr;
    const std::string_view id_text(id, static_cast<std::size_t>(id_end - id));
    char text[smpp::ShortMessage::kMaxLength];
    std::size_t n = 0;
    auto put = [&](std::string_view s) {
      std::copy(s.begin(), s.end(), text + n);
      n += s.size();
    };
    put("id:");
    put(id_text);
    put(" sub:001 dlvrd:001 submit date:");
    put(submit_date_.of(r.submit_unix));
    put(" done date:");
    put(done_date_.of(now_unix));
    put(" stat:DELIVRD err:000 text:");
    put(std::string_view(r.text, r.text_len));
    d.short_message.assign(std::string_view(text, n));
    d.tlvs.set(smpp::tlv::receipted_message_id, id_text);
    d.tlvs.set(smpp::tlv::message_state, static_cast<uint8_t>(smpp::MessageState::delivered));
    return pdu_;
  }

 private:
  smpp::Pdu pdu_;
  ReceiptDate submit_date_, done_date_;
};

template <class Sm>
void copy_for_receipt(const Sm& sm, PendingReceipt& r) {
  r.from_ton = sm.dest_addr_ton;
  r.from_npi = sm.dest_addr_npi;
  r.from.assign(sm.destination_addr.view().substr(0, smpp::Address::kMaxLength));
  r.to_ton = sm.source_addr_ton;
  r.to_npi = sm.source_addr_npi;
  r.to.assign(sm.source_addr.view().substr(0, smpp::Address::kMaxLength));
  r.text_len = 0;
  if constexpr (requires { sm.short_message; }) {
    // The first 20 octets of a text message, up to anything not printable ASCII: enough for
    // the receipt's "text:" field, which is informative only.
    if (sm.data_coding == 0 || sm.data_coding == 1 || sm.data_coding == 3) {
      for (uint8_t c : sm.short_message.bytes()) {
        if (r.text_len == sizeof r.text || c < 0x20 || c > 0x7E) break;
        r.text[r.text_len++] = static_cast<char>(c);
      }
    }
  }
}

// Whether registered_delivery asks for a receipt of a delivered message: bits 1-0 = 01 (on
// success or failure) or 11 (5.0: on success only).
constexpr bool wants_success_receipt(uint8_t registered_delivery) {
  return (registered_delivery & 0x03) == 0x01 || (registered_delivery & 0x03) == 0x03;
}

class Worker {
 public:
  Worker(const SinkOptions& options, std::shared_ptr<const SessionSettings> s)
      : options_(options), settings_(std::move(s)), timer_(io_, Clock::time_point::max()) {
    submit_resp_ = smpp::make_pdu(0, smpp::SubmitSmResp{});
    data_resp_ = smpp::make_pdu(0, smpp::DataSmResp{});
  }

  asio::io_context& io() { return io_; }
  SinkStats& stats() { return stats_; }
  SessionList& sessions() { return sessions_; }
  const SessionSettings& settings() const { return *settings_; }

  void start_timer() { asio::co_spawn(io_, receipt_loop(), asio::detached); }
  void adopt(tcp::socket socket);
  void stop(Duration grace) {
    stopping_ = true;
    timer_.cancel();
    sessions_.for_each([&](Session& s) { s.shutdown(grace, "sink stopping"); });
  }

  Group& group_of(const std::string& system_id) {
    auto& g = groups_[system_id];
    if (!g) g = std::make_unique<Group>();
    return *g;
  }

  uint64_t next_message_id() { return ++issued_; }

  smpp::Pdu& submit_resp(uint32_t seq, uint64_t id, bool data_sm) {
    smpp::Pdu& p = data_sm ? data_resp_ : submit_resp_;
    p.sequence_number = seq;
    char text[24];
    const auto end = std::to_chars(text, text + sizeof text, id).ptr;
    const std::string_view id_text(text, static_cast<std::size_t>(end - text));
    if (data_sm) {
      p.as<smpp::DataSmResp>()->message_id.assign(id_text);
    } else {
      p.as<smpp::SubmitSmResp>()->message_id.assign(id_text);
    }
    return p;
  }

  template <class Sm>
  void receipt_for(Group& g, const Session& origin, uint64_t id, const Sm& sm) {
    if (options_.receipt_delay.count() == 0) {
      PendingReceipt& r = scratch_;
      fill(r, g, origin, id, sm);
      deliver(r);
      return;
    }
    const bool was_empty = delayed_.empty();
    PendingReceipt& r = delayed_.push();
    fill(r, g, origin, id, sm);
    r.due = Clock::now() + options_.receipt_delay;
    if (was_empty) timer_.cancel();  // the timer sleeps without a deadline while nothing waits
  }

  // Sends the receipt or, when no receiver has room, queues it for its system_id.
  void deliver(const PendingReceipt& r) {
    Group& g = *r.group;
    if (!g.backlog.empty() || !try_send(r)) enqueue(g, r);
  }

  // Sends what waits for this group while its receivers have room.
  void flush(Group& g) {
    while (!g.backlog.empty() && try_send(g.backlog.front())) g.backlog.pop();
  }

  void receipt_answered(Outcome outcome, const smpp::Pdu* response) {
    if (outcome == Outcome::response && response->command_status == smpp::status::ESME_ROK) {
      ++stats_.receipts_acked;
    } else {
      ++stats_.receipts_failed;
    }
  }

  uint64_t queued() const {
    uint64_t n = delayed_.size();
    for (const auto& [_, g] : groups_) n += g->backlog.size();
    return n;
  }

 private:
  template <class Sm>
  void fill(PendingReceipt& r, Group& g, const Session& origin, uint64_t id, const Sm& sm) {
    r.id = id;
    r.group = &g;
    r.origin = origin.id();
    r.submit_unix = unix_now();
    copy_for_receipt(sm, r);
  }

  // Receipt dates have minutes: the coarse clock (the last tick, a few ns to read) is enough.
  static int64_t unix_now() {
    timespec t{};
    clock_gettime(CLOCK_REALTIME_COARSE, &t);
    return t.tv_sec;
  }

  bool try_send(const PendingReceipt& r) {
    Group& g = *r.group;
    const std::size_t n = g.receivers.size();
    if (n == 0) return false;
    smpp::Pdu& pdu = builder_.build(r, unix_now());
    if (options_.same_session) {
      for (Session* s : g.receivers) {
        if (s->id() != r.origin) continue;
        if (s->send_request(pdu, 0) == SendResult::sent) {
          ++stats_.receipts_sent;
          return true;
        }
        break;  // its window is full: any other session will do
      }
    }
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t i = (g.next + k) % n;
      // A refused send (window full) is what makes the session call on_window_open later.
      if (g.receivers[i]->send_request(pdu, 0) == SendResult::sent) {
        g.next = i + 1;
        ++stats_.receipts_sent;
        return true;
      }
    }
    return false;
  }

  void enqueue(Group& g, const PendingReceipt& r) {
    if (g.backlog.size() >= options_.max_queued) {
      ++stats_.receipts_dropped;
      return;
    }
    g.backlog.push(r);
  }

  asio::awaitable<void> receipt_loop() {
    Clock::time_point last{};
    while (!stopping_) {
      if (delayed_.empty()) {
        timer_.expires_at(Clock::time_point::max());
      } else {
        // At most one wake-up a millisecond: receipts due within it go out together.
        timer_.expires_at(std::max(delayed_.front().due, last + std::chrono::milliseconds(1)));
      }
      co_await timer_.async_wait(nothrow);
      last = Clock::now();
      while (!stopping_ && !delayed_.empty() && delayed_.front().due <= last) {
        deliver(delayed_.front());
        delayed_.pop();
      }
    }
  }

  const SinkOptions& options_;
  std::shared_ptr<const SessionSettings> settings_;
  asio::io_context io_{1};
  asio::steady_timer timer_;
  SessionList sessions_;
  std::unordered_map<std::string, std::unique_ptr<Group>> groups_;
  Fifo<PendingReceipt> delayed_{1024};
  PendingReceipt scratch_;
  ReceiptBuilder builder_;
  smpp::Pdu submit_resp_, data_resp_;
  uint64_t issued_ = 0;
  SinkStats stats_;
  bool stopping_ = false;
};

class SinkHandler final : public SessionHandler {
 public:
  explicit SinkHandler(Worker& w) : worker_(w) {}

  asio::awaitable<uint32_t> on_bind(Session&, const BindRequest&) override {
    co_return smpp::status::ESME_ROK;
  }

  void on_bound(Session& s) override {
    ++worker_.stats().binds;
    group_ = &worker_.group_of(s.system_id());
    if (s.state() == BindState::bound_rx || s.state() == BindState::bound_trx) {
      group_->receivers.push_back(&s);
      receives_ = true;
      worker_.flush(*group_);
    }
  }

  void on_request(Session& s, smpp::Pdu& request) override {
    if (auto* sm = request.as<smpp::SubmitSm>()) {
      answer(s, request.sequence_number, *sm, false);
    } else if (auto* dm = request.as<smpp::DataSm>()) {
      answer(s, request.sequence_number, *dm, true);
    } else {
      ++worker_.stats().other_requests;
      smpp::Pdu r = smpp::make_response(request.command_id(), request.sequence_number,
                                        smpp::status::ESME_RINVCMDID);
      s.respond(r);
    }
  }

  void on_response(Session&, uint64_t, Outcome outcome, smpp::Pdu* response) override {
    worker_.receipt_answered(outcome, response);
  }

  void on_window_open(Session&) override {
    if (group_ != nullptr) worker_.flush(*group_);
  }

  void on_closed(Session& s, std::string_view) override {
    if (!receives_) return;
    auto& r = group_->receivers;
    r.erase(std::remove(r.begin(), r.end(), &s), r.end());
  }

 private:
  template <class Sm>
  void answer(Session& s, uint32_t seq, const Sm& sm, bool data_sm) {
    ++worker_.stats().submits;
    const uint64_t id = worker_.next_message_id();
    s.respond(worker_.submit_resp(seq, id, data_sm));
    if (wants_success_receipt(sm.registered_delivery)) worker_.receipt_for(*group_, s, id, sm);
  }

  Worker& worker_;
  Group* group_ = nullptr;
  bool receives_ = false;
};

void Worker::adopt(tcp::socket socket) {
  ++stats_.sessions;
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  auto s = std::make_shared<Session>(Transport(std::move(socket)), settings_,
                                     std::make_unique<SinkHandler>(*this), &sessions_);
  s->start();
}

// The receipt the sink builds is the one smpp::fill_receipt builds from the same data.
bool receipt_builder_matches_fill_receipt() {
  PendingReceipt r;
  r.id = 4711;
  r.submit_unix = 1'790'000'000;
  r.from = "4915112345678";
  r.to = "12345";
  r.from_ton = 1;
  r.from_npi = 1;
  const std::string_view text = "Hello from the sink, twenty characters";
  r.text_len = 20;
  std::copy_n(text.begin(), 20, r.text);
  ReceiptBuilder builder;
  const smpp::Pdu& ours = builder.build(r, r.submit_unix + 65);

  smpp::Receipt receipt;
  receipt.id = "4711";
  receipt.sub = "001";
  receipt.dlvrd = "001";
  receipt.submit_date = smpp::format_receipt_date(smpp::SmppTime::from_unix_seconds(r.submit_unix));
  receipt.done_date =
      smpp::format_receipt_date(smpp::SmppTime::from_unix_seconds(r.submit_unix + 65));
  receipt.state = smpp::MessageState::delivered;
  receipt.err = "000";
  receipt.text = text;
  smpp::DeliverSm expected;
  expected.source_addr_ton = 1;
  expected.source_addr_npi = 1;
  expected.source_addr = "4915112345678";
  expected.destination_addr = "12345";
  if (!smpp::fill_receipt(expected, receipt, smpp::Version::v34)) return false;
  return *ours.as<smpp::DeliverSm>() == expected;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"smpp_sink: a minimal, fast SMSC for benchmarks"};
  SinkOptions o;
  std::string receipt_delay = "0ms";
  app.add_option("-l,--listen", o.listen, "HOST:PORT to listen on (port 0: any free port)")
      ->capture_default_str();
  app.add_option("--system-id", o.system_id, "system_id in bind responses")->capture_default_str();
  app.add_option("--receipt-delay", receipt_delay,
                 "Time from submit to receipt (\"0ms\": right after the response)")
      ->capture_default_str();
  app.add_option("--window", o.window, "Requests in flight per session, each way")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1'000'000u));
  std::string receipt_session = "any";
  app.add_option("--receipt-session", receipt_session,
                 "Which session of the system_id a receipt goes to: any (round robin over its "
                 "receivers and transceivers) or same (the one that submitted, when it can)")
      ->capture_default_str()
      ->check(CLI::IsMember({"any", "same"}));
  app.add_option("--max-queued", o.max_queued,
                 "Receipts waiting for a receiver, per system_id; more are dropped and counted")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  o.same_session = receipt_session == "same";
  tcp::endpoint listen_at;
  try {
    o.receipt_delay = smppd::bench::parse_duration_arg(receipt_delay, "--receipt-delay");
    listen_at = smppd::bench::parse_endpoint_arg(o.listen, true);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "smpp_sink: %s\n", e.what());
    return 2;
  }
  if (!receipt_builder_matches_fill_receipt()) {
    std::fprintf(stderr, "smpp_sink: internal error: receipts differ from smpp::fill_receipt\n");
    return 3;
  }
  smppd::bench::raise_fd_limit();
  smppd::bench::keep_freed_memory();

  SessionSettings settings;
  settings.role = Role::smsc;
  settings.system_id = o.system_id.substr(0, 15);
  settings.window_size = o.window;
  settings.bind_timeout = std::chrono::seconds(10);
  auto shared_settings = std::make_shared<const SessionSettings>(settings);

  Worker worker(o, shared_settings);
  asio::io_context& io = worker.io();

  tcp::acceptor acceptor(io);
  try {
    acceptor.open(listen_at.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(listen_at);
    acceptor.listen(asio::socket_base::max_listen_connections);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "smpp_sink: cannot listen on %s: %s\n", o.listen.c_str(), e.what());
    return 1;
  }
  const auto bound_at = acceptor.local_endpoint();
  std::printf("sink listening on %s:%u\n", bound_at.address().to_string().c_str(), bound_at.port());
  std::fflush(stdout);

  auto accept_loop = [&]() -> asio::awaitable<void> {
    while (acceptor.is_open()) {
      auto [ec, socket] = co_await acceptor.async_accept(nothrow);
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) break;
        continue;  // EMFILE and friends: try the next one
      }
      worker.adopt(std::move(socket));
    }
  };
  worker.start_timer();
  asio::co_spawn(io, accept_loop(), asio::detached);

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    boost::system::error_code ignored;
    acceptor.close(ignored);
    worker.stop(std::chrono::milliseconds(300));
    // Give the unbinds their time, then stop whatever is left.
    auto t = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(400));
    t->async_wait([t, &io](const boost::system::error_code&) { io.stop(); });
  });
  io.run();

  SinkStats& total = worker.stats();
  total.receipts_queued = worker.queued();
  const auto cpu = smppd::bench::cpu_seconds();
  std::printf(
      "sink stats sessions=%llu binds=%llu submits=%llu other_requests=%llu receipts_sent=%llu "
      "receipts_acked=%llu receipts_failed=%llu receipts_dropped=%llu receipts_queued=%llu "
      "cpu_user_s=%.2f cpu_sys_s=%.2f\n",
      static_cast<unsigned long long>(total.sessions), static_cast<unsigned long long>(total.binds),
      static_cast<unsigned long long>(total.submits),
      static_cast<unsigned long long>(total.other_requests),
      static_cast<unsigned long long>(total.receipts_sent),
      static_cast<unsigned long long>(total.receipts_acked),
      static_cast<unsigned long long>(total.receipts_failed),
      static_cast<unsigned long long>(total.receipts_dropped),
      static_cast<unsigned long long>(total.receipts_queued), cpu.user, cpu.system);
  return 0;
}
