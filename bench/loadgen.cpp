// smpp_loadgen: a load generator for the message path. It binds N sessions (our Session, esme
// role) to HOST:PORT, pipelines submit_sm with a window per session, as fast as the peer answers
// or at --rate messages a second, for --duration or --count messages, and with --receipts asks
// for a delivery receipt for each and matches the receipts it gets back to its submits. It
// reports messages a second sent and answered, the command_status of every answer, receipts
// received and missing, and percentiles of the time from submit to response and to receipt.
//
//   smpp_loadgen 127.0.0.1:2775 --sessions 4 --window 200 --duration 10s [--receipts]
//   smpp_loadgen 127.0.0.1:2775 --rate 10000 --duration 10s --receipts
//
// The hot path allocates nothing per message: one submit_sm is built per thread and re-sent
// (the session encodes it straight into its output buffer), the submit time travels as the
// request's cookie, latencies go into fixed log-linear histograms (load/latency_histogram.hpp),
// and the message id -> submit time map for receipts is an open-addressing table sized up front
// (load/message_id_table.hpp). A receipt may overtake its submit_sm_resp (on another session, or
// through a proxy): it then waits in the same table until the response comes.
//
// The summary is one line per record, "<record> key=value ...", stable for grep and scripts
// (or one JSON object with --json); the exit status is 0 when every submit was answered with
// ESME_ROK and every receipt arrived, 1 otherwise, 2 when nothing could bind.
#include <signal.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "load/args.hpp"
#include "load/fifo.hpp"
#include "load/latency_histogram.hpp"
#include "load/message_id_table.hpp"
#include "load/process.hpp"
#include "session/session.hpp"
#include "smpp/receipt.hpp"
#include "smpp/status.hpp"

namespace {

namespace asio = boost::asio;
using namespace smppd::session;
using smppd::bench::LatencyHistogram;
using smppd::bench::message_id_hash;
using smppd::bench::MessageIdTable;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

uint64_t now_ns() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
          .count());
}

// A counter written by one thread and read by others (the orchestrator): a relaxed store of
// load + 1 costs what a plain increment does.
void bump(std::atomic<uint64_t>& a, uint64_t by = 1) {
  a.store(a.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}

struct Options {
  std::string target;
  std::string bind = "transceiver";
  unsigned sessions = 1;
  unsigned receivers = 0;
  std::string system_id = "loadgen";
  std::string password = "loadgen";
  std::string system_type;
  uint32_t window = 100;
  double rate = 0;
  milliseconds duration{10'000};
  uint64_t count = 0;
  bool receipts = false;
  milliseconds receipt_wait{10'000};
  milliseconds response_timeout{30'000};
  milliseconds bind_timeout{10'000};
  unsigned threads = 1;
  std::string source = "12345";
  std::string destination = "4917000000001";
  unsigned length = 160;
  bool json = false;
  bool progress = false;
};

// Per-thread counters the orchestrator reads while the run goes on.
struct Progress {
  std::atomic<uint64_t> bound{0};
  std::atomic<uint64_t> failed{0};  // connect failed, bind refused, or closed before bound
  std::atomic<uint64_t> closed{0};  // closed after binding
  std::atomic<uint64_t> sent{0};
  std::atomic<uint64_t> outcomes{0};  // responses, timeouts, closed, malformed
  std::atomic<uint64_t> ok{0};
  std::atomic<uint64_t> matched{0};  // receipts matched with their submit
  std::atomic<bool> done_sending{false};
};

// Everything else a thread counts, read once its thread has stopped.
struct Tally {
  static constexpr std::size_t kStatuses = 0x500;  // standard and vendor ranges
  std::array<uint64_t, kStatuses> statuses{};
  uint64_t other_status = 0;  // above 0x4FF
  uint64_t timeouts = 0;
  uint64_t closed = 0;
  uint64_t malformed = 0;
  uint64_t receipts = 0;          // deliver_sm / data_sm receipts received
  uint64_t receipts_no_id = 0;    // a receipt with no usable id
  uint64_t receipts_early = 0;    // arrived before their submit_sm_resp (matched later)
  uint64_t receipt_dups = 0;      // a second receipt for a message (recently matched or waiting)
  uint64_t duplicate_ids = 0;     // a message id given twice by the SMSC
  uint64_t other_deliveries = 0;  // deliver_sm that are not receipts (MO)
  std::array<uint64_t, 10> receipt_states{};
  uint64_t receipt_state_unknown = 0;
  uint64_t first_send_ns = 0;
  uint64_t end_send_ns = 0;  // when sending stopped
  uint64_t last_answer_ns = 0;
  uint64_t last_receipt_ns = 0;
  uint64_t behind = 0;  // rate mode: messages the rate asked for that found no free window
  LatencyHistogram response_latency;
  LatencyHistogram receipt_latency;
  std::string first_failure;

  void add(const Tally& o) {
    for (std::size_t i = 0; i < kStatuses; ++i) statuses[i] += o.statuses[i];
    other_status += o.other_status;
    timeouts += o.timeouts;
    closed += o.closed;
    malformed += o.malformed;
    receipts += o.receipts;
    receipts_no_id += o.receipts_no_id;
    receipts_early += o.receipts_early;
    receipt_dups += o.receipt_dups;
    duplicate_ids += o.duplicate_ids;
    other_deliveries += o.other_deliveries;
    for (std::size_t i = 0; i < receipt_states.size(); ++i)
      receipt_states[i] += o.receipt_states[i];
    receipt_state_unknown += o.receipt_state_unknown;
    auto min_set = [](uint64_t a, uint64_t b) { return a == 0 ? b : b == 0 ? a : std::min(a, b); };
    first_send_ns = min_set(first_send_ns, o.first_send_ns);
    end_send_ns = std::max(end_send_ns, o.end_send_ns);
    last_answer_ns = std::max(last_answer_ns, o.last_answer_ns);
    last_receipt_ns = std::max(last_receipt_ns, o.last_receipt_ns);
    behind += o.behind;
    response_latency.merge(o.response_latency);
    receipt_latency.merge(o.receipt_latency);
    if (first_failure.empty()) first_failure = o.first_failure;
  }
};

// Message id -> submit time (or, for a receipt that came first, its arrival time with the top
// bit set), shared by every thread: a receipt may arrive on any session of the system_id.
// Sharded so that threads seldom meet on a lock; with one thread the locks are skipped.
// The ids matched last (kRecent per shard, 131,072 in all: seconds of traffic) are remembered,
// so that a second receipt for a message is counted as a duplicate rather than as a receipt for
// an unknown message; one that comes later still counts as unmatched.
class ReceiptMatcher {
 public:
  static constexpr uint64_t kEarly = uint64_t{1} << 63;

  ReceiptMatcher(std::size_t expected, bool locking) : locking_(locking) {
    for (auto& s : shards_) s.table = MessageIdTable(std::max<std::size_t>(expected / kShards, 64));
  }

  // A submit_sm_resp gave `id` to the message submitted at `submit_ns`. Returns the receipt's
  // arrival time when its receipt came first, else 0.
  uint64_t on_response(std::string_view id, uint64_t submit_ns, Tally& tally) {
    const uint64_t key = message_id_hash(id);
    Shard& s = shard(key);
    Guard g(s, locking_);
    uint64_t v = 0;
    if (s.table.take(key, v)) {
      if ((v & kEarly) != 0) {
        s.remember(key);
        return v & ~kEarly;
      }
      ++tally.duplicate_ids;
    }
    s.table.put(key, submit_ns);
    return 0;
  }

  // A receipt for `id` arrived at `now`. Returns the submit time when the response was seen,
  // else 0 (the receipt waits for it).
  uint64_t on_receipt(std::string_view id, uint64_t now, Tally& tally) {
    const uint64_t key = message_id_hash(id);
    Shard& s = shard(key);
    Guard g(s, locking_);
    uint64_t v = 0;
    if (s.table.take(key, v)) {
      if ((v & kEarly) == 0) {
        s.remember(key);
        return v;
      }
      ++tally.receipt_dups;  // a second receipt, both ahead of the response
      s.table.put(key, v);
      return 0;
    }
    if (s.recent.contains(key)) {
      ++tally.receipt_dups;
      return 0;
    }
    ++tally.receipts_early;
    s.table.put(key, now | kEarly);
    return 0;
  }

  // Receipts that never found their submit (left waiting at the end).
  uint64_t unmatched_receipts() {
    uint64_t n = 0;
    for (auto& s : shards_) {
      Guard g(s, locking_);
      s.table.for_each([&](uint64_t, uint64_t v) { n += (v & kEarly) != 0 ? 1 : 0; });
    }
    return n;
  }

 private:
  static constexpr std::size_t kShards = 16;
  static constexpr std::size_t kRecent = 8192;
  struct Shard {
    std::mutex mutex;
    MessageIdTable table;
    MessageIdTable recent{kRecent};
    smppd::bench::Fifo<uint64_t> recent_order{kRecent + 1};
    void remember(uint64_t key) {
      recent.put(key, 0);
      recent_order.push(key);
      if (recent_order.size() > kRecent) {
        uint64_t ignored = 0;
        recent.take(recent_order.front(), ignored);
        recent_order.pop();
      }
    }
  };
  struct Guard {
    Guard(Shard& s, bool locking) : s_(locking ? &s : nullptr) {
      if (s_ != nullptr) s_->mutex.lock();
    }
    ~Guard() {
      if (s_ != nullptr) s_->mutex.unlock();
    }
    Shard* s_;
  };
  Shard& shard(uint64_t key) { return shards_[(key >> 56) % kShards]; }

  bool locking_;
  std::array<Shard, kShards> shards_;
};

// Reads the receipt's message id: receipted_message_id, else the text's "id:" field.
std::string_view receipt_id(const smpp::TlvList& tlvs, std::string_view text) {
  if (auto id = tlvs.get(smpp::tlv::receipted_message_id)) return *id;
  for (std::size_t at = 0; at + 3 <= text.size(); ++at) {
    if ((at == 0 || text[at - 1] == ' ') && (text[at] == 'i' || text[at] == 'I') &&
        (text[at + 1] == 'd' || text[at + 1] == 'D') && text[at + 2] == ':') {
      std::size_t b = at + 3;
      while (b < text.size() && text[b] == ' ') ++b;
      std::size_t e = b;
      while (e < text.size() && text[e] != ' ') ++e;
      return text.substr(b, e - b);
    }
  }
  return {};
}

// The receipt's message_state: the TLV, else the text's "stat:" word.
std::optional<uint8_t> receipt_state(const smpp::TlvList& tlvs, std::string_view text) {
  if (auto v = tlvs.get(smpp::tlv::message_state)) return *v;
  const std::size_t at = text.find("stat:");
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view word = text.substr(at + 5);
  word = word.substr(0, word.find(' '));
  return static_cast<uint8_t>(smpp::message_state_from_stat(word));
}

struct Shared {
  const Options& options;
  ReceiptMatcher matcher;
  std::atomic<uint64_t> start_ns{0};
  std::atomic<bool> stop{false};  // SIGINT: stop sending now
};

class Worker;

class LoadHandler final : public SessionHandler {
 public:
  LoadHandler(Worker& w, bool sends) : worker_(w), sends_(sends) {}
  void on_bound(Session& s) override;
  void on_request(Session& s, smpp::Pdu& request) override;
  void on_response(Session&, uint64_t cookie, Outcome outcome, smpp::Pdu* response) override;
  void on_window_open(Session&) override;
  void on_closed(Session&, std::string_view reason) override;

  Session* session = nullptr;  // once bound
  bool sends() const { return sends_; }

 private:
  Worker& worker_;
  bool sends_;
  bool bound_ = false;
};

class Worker {
 public:
  Worker(Shared& shared, unsigned senders, unsigned receivers, uint64_t budget, double rate)
      : shared_(shared),
        o_(shared.options),
        senders_wanted_(senders),
        receivers_wanted_(receivers),
        budget_(budget),
        rate_(rate),
        tick_(io_) {
    SessionSettings s;
    s.role = Role::esme;
    s.window_size = o_.window;
    s.response_timeout = o_.response_timeout;
    s.bind_timeout = o_.bind_timeout;
    settings_ = std::make_shared<const SessionSettings>(s);

    smpp::SubmitSm sm;
    sm.source_addr_ton = 0;
    sm.source_addr_npi = 1;
    sm.source_addr.assign(o_.source);
    sm.dest_addr_ton = 1;
    sm.dest_addr_npi = 1;
    sm.destination_addr.assign(o_.destination);
    sm.registered_delivery = o_.receipts ? 1 : 0;
    std::string text = "smpp_loadgen message ";
    while (text.size() < o_.length) text += static_cast<char>('a' + text.size() % 26);
    text.resize(o_.length);
    sm.short_message.assign(std::string_view(text));
    submit_ = smpp::make_pdu(0, std::move(sm));
    deliver_resp_ = smpp::make_pdu(0, smpp::DeliverSmResp{});
    data_resp_ = smpp::make_pdu(0, smpp::DataSmResp{});
  }
  ~Worker() { sessions_.clear(); }

  asio::io_context& io() { return io_; }
  Progress& progress() { return progress_; }
  Tally& tally() { return tally_; }
  uint64_t in_flight() const {
    return progress_.sent.load(std::memory_order_relaxed) -
           progress_.outcomes.load(std::memory_order_relaxed);
  }

  void connect(const tcp::endpoint& target) {
    for (unsigned i = 0; i < senders_wanted_ + receivers_wanted_; ++i) {
      asio::co_spawn(io_, connect_one(target, i < senders_wanted_), asio::detached);
    }
  }

  // Called on this worker's thread once every session of the run is bound (or failed).
  void start() {
    sending_ = !senders_.empty() && budget_ > 0;
    if (!sending_) {
      finish_sending(now_ns());
      return;
    }
    last_tick_ns_ = shared_.start_ns.load();
    if (rate_ <= 0) {
      for (LoadHandler* h : senders_) fill(*h);
    }
    asio::co_spawn(io_, tick_loop(), asio::detached);
  }

  void shutdown() {
    sending_ = false;
    tick_.cancel();
    for (auto& s : sessions_) s->shutdown(milliseconds(1000), "loadgen done");
  }

  // ---- from the sessions ----

  void on_bound(LoadHandler& h) {
    bump(progress_.bound);
    if (h.sends()) senders_.push_back(&h);
  }

  void on_failed(std::string_view reason) {
    bump(progress_.failed);
    if (tally_.first_failure.empty()) tally_.first_failure = reason;
  }

  void on_closed_after_bind(LoadHandler& h, std::string_view reason) {
    bump(progress_.closed);
    senders_.erase(std::remove(senders_.begin(), senders_.end(), &h), senders_.end());
    if (!shutting_down_ && tally_.first_failure.empty()) tally_.first_failure = reason;
  }

  void on_response(uint64_t submit_ns, Outcome outcome, smpp::Pdu* response) {
    const uint64_t now = now_ns();
    bump(progress_.outcomes);
    switch (outcome) {
      case Outcome::response: {
        tally_.last_answer_ns = now;
        tally_.response_latency.record(now - submit_ns);
        const uint32_t st = response->command_status;
        if (st < Tally::kStatuses) {
          ++tally_.statuses[st];
        } else {
          ++tally_.other_status;
        }
        if (st != smpp::status::ESME_ROK) break;
        bump(progress_.ok);
        if (!o_.receipts) break;
        if (auto* r = response->as<smpp::SubmitSmResp>()) {
          if (const uint64_t receipt_ns =
                  shared_.matcher.on_response(r->message_id.view(), submit_ns, tally_)) {
            receipt_matched(receipt_ns - std::min(receipt_ns, submit_ns));
          }
        }
        break;
      }
      case Outcome::malformed_response:
        ++tally_.malformed;
        break;
      case Outcome::timeout:
        ++tally_.timeouts;
        break;
      case Outcome::closed:
        ++tally_.closed;
        break;
    }
  }

  void on_window_open(LoadHandler& h) {
    if (rate_ <= 0) fill(h);
  }

  void on_request(Session& s, smpp::Pdu& request) {
    if (auto* d = request.as<smpp::DeliverSm>()) {
      if (smpp::is_receipt(d->esm_class)) {
        on_receipt(d->tlvs, d->short_message.view());
      } else {
        ++tally_.other_deliveries;
      }
      deliver_resp_.sequence_number = request.sequence_number;
      s.respond(deliver_resp_);
    } else if (auto* dm = request.as<smpp::DataSm>()) {
      if (smpp::is_receipt(dm->esm_class)) {
        on_receipt(dm->tlvs, {});
      } else {
        ++tally_.other_deliveries;
      }
      data_resp_.sequence_number = request.sequence_number;
      s.respond(data_resp_);
    } else {
      smpp::Pdu r = smpp::make_response(request.command_id(), request.sequence_number,
                                        smpp::status::ESME_RINVCMDID);
      s.respond(r);
    }
  }

 private:
  asio::awaitable<void> connect_one(tcp::endpoint target, bool sends) {
    tcp::socket socket(io_);
    auto [ec] = co_await socket.async_connect(target, nothrow);
    if (ec) {
      on_failed("connect failed: " + ec.message());
      co_return;
    }
    socket.set_option(tcp::no_delay(true), ec);
    smppd::session::register_for_reads_only(socket);
    auto s = std::make_shared<Session>(Transport(std::move(socket)), settings_,
                                       std::make_unique<LoadHandler>(*this, sends));
    s->start();
    smpp::BindFields b;
    b.system_id.assign(o_.system_id);
    b.password.assign(o_.password);
    b.system_type.assign(o_.system_type);
    b.interface_version = 0x34;
    smpp::Pdu pdu;
    if (!sends) {
      pdu = smpp::make_pdu(0, smpp::BindReceiver{b});
    } else if (o_.bind == "transmitter") {
      pdu = smpp::make_pdu(0, smpp::BindTransmitter{b});
    } else {
      pdu = smpp::make_pdu(0, smpp::BindTransceiver{b});
    }
    s->bind(pdu, smpp::Version::v34);
    sessions_.push_back(std::move(s));
  }

  bool send_one(LoadHandler& h) {
    if (!sending_ || budget_ == 0 || h.session == nullptr) return false;
    const uint64_t t = now_ns();
    if (h.session->send_request(submit_, t) != SendResult::sent) return false;
    --budget_;
    bump(progress_.sent);
    if (tally_.first_send_ns == 0) tally_.first_send_ns = t;
    if (budget_ == 0) finish_sending(t);
    return true;
  }

  void fill(LoadHandler& h) {
    while (send_one(h)) {
    }
  }

  void finish_sending(uint64_t t) {
    if (progress_.done_sending.load(std::memory_order_relaxed)) return;
    sending_ = false;
    tally_.end_send_ns = t;
    progress_.done_sending.store(true, std::memory_order_relaxed);
  }

  // Every millisecond: the end of the run, and in rate mode the messages now due.
  asio::awaitable<void> tick_loop() {
    const uint64_t start = shared_.start_ns.load();
    const uint64_t end = start + static_cast<uint64_t>(o_.duration.count()) * 1'000'000;
    const double cap = std::max(1.0, rate_ * 0.010);  // at most 10 ms of backlog
    auto next = Clock::now();
    while (sending_) {
      next += milliseconds(1);
      tick_.expires_at(next);
      co_await tick_.async_wait(nothrow);
      if (!sending_) break;
      const uint64_t now = now_ns();
      if ((o_.count == 0 && now >= end) || shared_.stop.load(std::memory_order_relaxed)) {
        finish_sending(now);
        break;
      }
      if (rate_ <= 0) continue;
      tokens_ += rate_ * static_cast<double>(now - last_tick_ns_) / 1e9;
      last_tick_ns_ = now;
      if (tokens_ > cap) {
        tally_.behind += static_cast<uint64_t>(tokens_ - cap);
        tokens_ = cap;
      }
      // A tick's messages go to one session (the next one each tick), spilling over to the
      // following ones only when its window is full: one write a tick rather than one per
      // session, which keeps the generator's system time (and the peer's) low at fixed rates.
      const std::size_t n = senders_.size();
      for (std::size_t k = 0; k < n && tokens_ >= 1 && sending_; ++k) {
        LoadHandler& h = *senders_[(rr_ + k) % n];
        while (tokens_ >= 1 && !h.session->window_full() && send_one(h)) tokens_ -= 1;
      }
      ++rr_;
      if (Clock::now() > next + milliseconds(5)) next = Clock::now();  // we were late: skip
    }
  }

  void on_receipt(const smpp::TlvList& tlvs, std::string_view text) {
    const uint64_t now = now_ns();
    ++tally_.receipts;
    tally_.last_receipt_ns = now;
    if (auto st = receipt_state(tlvs, text); st && *st < tally_.receipt_states.size()) {
      ++tally_.receipt_states[*st];
    } else {
      ++tally_.receipt_state_unknown;
    }
    const std::string_view id = receipt_id(tlvs, text);
    if (id.empty()) {
      ++tally_.receipts_no_id;
      return;
    }
    if (const uint64_t submit_ns = shared_.matcher.on_receipt(id, now, tally_)) {
      receipt_matched(now - std::min(now, submit_ns));
    }
  }

  void receipt_matched(uint64_t latency) {
    bump(progress_.matched);
    tally_.receipt_latency.record(latency);
  }

  friend class LoadHandler;

  Shared& shared_;
  const Options& o_;
  unsigned senders_wanted_, receivers_wanted_;
  uint64_t budget_;
  double rate_;
  asio::io_context io_{1};
  asio::steady_timer tick_;
  std::shared_ptr<const SessionSettings> settings_;
  std::vector<std::shared_ptr<Session>> sessions_;
  std::vector<LoadHandler*> senders_;
  smpp::Pdu submit_, deliver_resp_, data_resp_;
  Progress progress_;
  Tally tally_;
  bool sending_ = false;
  bool shutting_down_ = false;
  double tokens_ = 0;
  uint64_t last_tick_ns_ = 0;
  std::size_t rr_ = 0;

 public:
  void mark_shutting_down() { shutting_down_ = true; }
};

void LoadHandler::on_bound(Session& s) {
  session = &s;
  bound_ = true;
  worker_.on_bound(*this);
}
void LoadHandler::on_request(Session& s, smpp::Pdu& request) {
  worker_.on_request(s, request);
}
void LoadHandler::on_response(Session&, uint64_t cookie, Outcome outcome, smpp::Pdu* response) {
  worker_.on_response(cookie, outcome, response);
}
void LoadHandler::on_window_open(Session&) {
  worker_.on_window_open(*this);
}
void LoadHandler::on_closed(Session&, std::string_view reason) {
  if (bound_) {
    worker_.on_closed_after_bind(*this, reason);
  } else {
    worker_.on_failed(reason);
  }
  session = nullptr;
}

// ---------------------------------------------------------------- the summary

struct Summary {
  const Options* o;
  std::string target;
  unsigned sessions_wanted = 0;
  uint64_t bound = 0, failed = 0, closed = 0;
  double bind_seconds = 0;
  uint64_t sent = 0, answered = 0, ok = 0, unanswered = 0;
  double send_seconds = 0, answer_seconds = 0;
  uint64_t receipts_expected = 0, matched = 0, unmatched = 0;
  double receipt_seconds = 0;
  Tally t;
  bool interrupted = false;
  double cpu_user = 0, cpu_sys = 0, wall = 0;  // the whole process, binds and drain included

  double rate(uint64_t n, double s) const { return s > 0 ? static_cast<double>(n) / s : 0; }
  uint64_t missing() const { return receipts_expected - std::min(receipts_expected, matched); }
  bool all_ok() const {
    return bound == sessions_wanted && sent > 0 && ok == sent && unanswered == 0 &&
           (!o->receipts ||
            (missing() == 0 && unmatched == 0 && t.receipt_dups == 0 && t.receipts_no_id == 0));
  }
};

double us(uint64_t ns) {
  return static_cast<double>(ns) / 1000.0;
}

void print_latency(const char* what, const LatencyHistogram& h) {
  std::printf(
      "latency what=%s unit=us count=%llu p50=%.1f p90=%.1f p99=%.1f p99.9=%.1f max=%.1f "
      "mean=%.1f\n",
      what, static_cast<unsigned long long>(h.count()), us(h.percentile(50)), us(h.percentile(90)),
      us(h.percentile(99)), us(h.percentile(99.9)), us(h.max()), h.mean() / 1000.0);
}

void print_text(const Summary& s) {
  const Options& o = *s.o;
  std::printf(
      "config target=%s bind=%s sessions=%u receivers=%u window=%u threads=%u rate=%s "
      "receipts=%s duration_s=%.3f count=%llu length=%u\n",
      s.target.c_str(), o.bind.c_str(), o.sessions, o.receivers, o.window, o.threads,
      o.rate > 0 ? std::to_string(static_cast<uint64_t>(o.rate)).c_str() : "max",
      o.receipts ? "on" : "off", o.count > 0 ? 0.0 : static_cast<double>(o.duration.count()) / 1e3,
      static_cast<unsigned long long>(o.count), o.length);
  std::printf("bind sessions=%u bound=%llu failed=%llu seconds=%.3f%s%s%s\n", s.sessions_wanted,
              static_cast<unsigned long long>(s.bound), static_cast<unsigned long long>(s.failed),
              s.bind_seconds, s.t.first_failure.empty() ? "" : " first_failure=\"",
              s.t.first_failure.c_str(), s.t.first_failure.empty() ? "" : "\"");
  std::printf("sent count=%llu seconds=%.3f rate=%.0f\n", static_cast<unsigned long long>(s.sent),
              s.send_seconds, s.rate(s.sent, s.send_seconds));
  if (o.rate > 0) {
    std::printf("pacing target=%.0f achieved=%.0f behind=%llu\n", o.rate,
                s.rate(s.sent, s.send_seconds), static_cast<unsigned long long>(s.t.behind));
  }
  std::printf(
      "answered count=%llu seconds=%.3f rate=%.0f ok=%llu error=%llu timeout=%llu closed=%llu "
      "malformed=%llu unanswered=%llu\n",
      static_cast<unsigned long long>(s.answered), s.answer_seconds,
      s.rate(s.answered, s.answer_seconds), static_cast<unsigned long long>(s.ok),
      static_cast<unsigned long long>(s.answered - s.ok),
      static_cast<unsigned long long>(s.t.timeouts), static_cast<unsigned long long>(s.t.closed),
      static_cast<unsigned long long>(s.t.malformed),
      static_cast<unsigned long long>(s.unanswered));
  for (std::size_t st = 0; st < Tally::kStatuses; ++st) {
    if (s.t.statuses[st] == 0) continue;
    const std::string_view name = smpp::status_name(static_cast<uint32_t>(st));
    std::printf("status code=0x%08zx name=%.*s count=%llu\n", st, static_cast<int>(name.size()),
                name.data(), static_cast<unsigned long long>(s.t.statuses[st]));
  }
  if (s.t.other_status > 0) {
    std::printf("status code=other name=above_0x4ff count=%llu\n",
                static_cast<unsigned long long>(s.t.other_status));
  }
  if (o.receipts || s.t.receipts > 0) {
    std::printf(
        "receipts expected=%llu received=%llu matched=%llu missing=%llu unmatched=%llu "
        "duplicate=%llu no_id=%llu early=%llu seconds=%.3f rate=%.0f delivered=%llu "
        "other_state=%llu\n",
        static_cast<unsigned long long>(s.receipts_expected),
        static_cast<unsigned long long>(s.t.receipts), static_cast<unsigned long long>(s.matched),
        static_cast<unsigned long long>(s.missing()), static_cast<unsigned long long>(s.unmatched),
        static_cast<unsigned long long>(s.t.receipt_dups),
        static_cast<unsigned long long>(s.t.receipts_no_id),
        static_cast<unsigned long long>(s.t.receipts_early), s.receipt_seconds,
        s.rate(s.t.receipts, s.receipt_seconds),
        static_cast<unsigned long long>(s.t.receipt_states[2]),
        static_cast<unsigned long long>(s.t.receipts - s.t.receipt_states[2]));
  }
  if (s.t.other_deliveries > 0) {
    std::printf("deliveries mo=%llu\n", static_cast<unsigned long long>(s.t.other_deliveries));
  }
  print_latency("submit_to_response", s.t.response_latency);
  if (o.receipts) print_latency("submit_to_receipt", s.t.receipt_latency);
  std::printf("cpu user_s=%.2f sys_s=%.2f wall_s=%.2f\n", s.cpu_user, s.cpu_sys, s.wall);
  std::printf("result=%s%s\n", s.all_ok() ? "ok" : "incomplete",
              s.interrupted ? " interrupted=1" : "");
}

void json_latency(const char* name, const LatencyHistogram& h, bool comma) {
  std::printf(
      "  \"%s\": {\"unit\": \"us\", \"count\": %llu, \"p50\": %.1f, \"p90\": %.1f, \"p99\": %.1f, "
      "\"p99_9\": %.1f, \"max\": %.1f, \"mean\": %.1f}%s\n",
      name, static_cast<unsigned long long>(h.count()), us(h.percentile(50)), us(h.percentile(90)),
      us(h.percentile(99)), us(h.percentile(99.9)), us(h.max()), h.mean() / 1000.0,
      comma ? "," : "");
}

void print_json(const Summary& s) {
  const Options& o = *s.o;
  auto u = [](uint64_t v) { return static_cast<unsigned long long>(v); };
  std::printf("{\n");
  std::printf(
      "  \"config\": {\"target\": \"%s\", \"bind\": \"%s\", \"sessions\": %u, \"receivers\": %u, "
      "\"window\": %u, \"threads\": %u, \"rate\": %.0f, \"receipts\": %s, \"duration_s\": %.3f, "
      "\"count\": %llu, \"length\": %u},\n",
      s.target.c_str(), o.bind.c_str(), o.sessions, o.receivers, o.window, o.threads, o.rate,
      o.receipts ? "true" : "false",
      o.count > 0 ? 0.0 : static_cast<double>(o.duration.count()) / 1e3, u(o.count), o.length);
  std::printf(
      "  \"bind\": {\"sessions\": %u, \"bound\": %llu, \"failed\": %llu, \"seconds\": %.3f},\n",
      s.sessions_wanted, u(s.bound), u(s.failed), s.bind_seconds);
  std::printf(
      "  \"sent\": {\"count\": %llu, \"seconds\": %.3f, \"rate\": %.0f, \"behind\": %llu},\n",
      u(s.sent), s.send_seconds, s.rate(s.sent, s.send_seconds), u(s.t.behind));
  std::printf(
      "  \"answered\": {\"count\": %llu, \"seconds\": %.3f, \"rate\": %.0f, \"ok\": %llu, "
      "\"error\": %llu, \"timeout\": %llu, \"closed\": %llu, \"malformed\": %llu, "
      "\"unanswered\": %llu},\n",
      u(s.answered), s.answer_seconds, s.rate(s.answered, s.answer_seconds), u(s.ok),
      u(s.answered - s.ok), u(s.t.timeouts), u(s.t.closed), u(s.t.malformed), u(s.unanswered));
  std::printf("  \"statuses\": {");
  bool first = true;
  for (std::size_t st = 0; st < Tally::kStatuses; ++st) {
    if (s.t.statuses[st] == 0) continue;
    std::printf("%s\"0x%08zx\": %llu", first ? "" : ", ", st, u(s.t.statuses[st]));
    first = false;
  }
  std::printf("},\n");
  std::printf(
      "  \"receipts\": {\"expected\": %llu, \"received\": %llu, \"matched\": %llu, \"missing\": "
      "%llu, \"unmatched\": %llu, \"duplicate\": %llu, \"no_id\": %llu, \"seconds\": %.3f, "
      "\"rate\": %.0f},\n",
      u(s.receipts_expected), u(s.t.receipts), u(s.matched), u(s.missing()), u(s.unmatched),
      u(s.t.receipt_dups), u(s.t.receipts_no_id), s.receipt_seconds,
      s.rate(s.t.receipts, s.receipt_seconds));
  json_latency("submit_to_response", s.t.response_latency, true);
  json_latency("submit_to_receipt", s.t.receipt_latency, true);
  std::printf("  \"cpu\": {\"user_s\": %.2f, \"sys_s\": %.2f, \"wall_s\": %.2f},\n", s.cpu_user,
              s.cpu_sys, s.wall);
  std::printf("  \"result\": \"%s\"\n}\n", s.all_ok() ? "ok" : "incomplete");
}

// `total` split over `parts` as evenly as possible; part `i`'s share.
uint64_t share(uint64_t total, unsigned parts, unsigned i) {
  return total / parts + (i < total % parts ? 1 : 0);
}

}  // namespace

int main(int argc, char** argv) {
  const auto process_started = Clock::now();
  CLI::App app{"smpp_loadgen: submit_sm load against an SMSC or smppd"};
  Options o;
  std::string duration = "10s", receipt_wait = "10s", timeout = "30s";
  app.add_option("target", o.target, "HOST:PORT of the SMSC or smppd listener")->required();
  app.add_option("-s,--sessions", o.sessions, "Sessions that submit")
      ->capture_default_str()
      ->check(CLI::Range(1u, 100'000u));
  app.add_option("--bind", o.bind, "Bind type of the submitting sessions")
      ->capture_default_str()
      ->check(CLI::IsMember({"transmitter", "transceiver"}));
  app.add_option("--receivers", o.receivers,
                 "Extra sessions bound as receivers (for receipts to transmitters)")
      ->capture_default_str();
  app.add_option("--system-id", o.system_id, "system_id of the binds")->capture_default_str();
  app.add_option("--password", o.password, "password of the binds")->capture_default_str();
  app.add_option("--system-type", o.system_type, "system_type of the binds");
  app.add_option("-w,--window", o.window, "submit_sm in flight per session")
      ->capture_default_str()
      ->check(CLI::Range(1u, 100'000u));
  app.add_option("-r,--rate", o.rate,
                 "Messages a second over all sessions (0: as fast as answered)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("-d,--duration", duration, "How long to send (ignored with --count)")
      ->capture_default_str();
  app.add_option("-n,--count", o.count, "Messages to send in all (0: send for --duration)")
      ->capture_default_str();
  app.add_flag("--receipts", o.receipts,
               "registered_delivery=1, and wait for and match the delivery receipts");
  app.add_option("--receipt-wait", receipt_wait,
                 "After the last response, how long to wait for missing receipts")
      ->capture_default_str();
  app.add_option("--timeout", timeout, "Response timeout of each submit_sm")->capture_default_str();
  app.add_option("-t,--threads", o.threads, "Threads (sessions are spread over them)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 64u));
  app.add_option("--source", o.source, "source_addr")->capture_default_str();
  app.add_option("--destination", o.destination, "destination_addr")->capture_default_str();
  app.add_option("--length", o.length, "short_message octets")
      ->capture_default_str()
      ->check(CLI::Range(0u, 254u));
  app.add_flag("--json", o.json, "Print the summary as one JSON object");
  app.add_flag("--progress", o.progress, "Print counts every second on stderr");
  CLI11_PARSE(app, argc, argv);

  tcp::endpoint target;
  try {
    o.duration = smppd::bench::parse_duration_arg(duration, "--duration");
    o.receipt_wait = smppd::bench::parse_duration_arg(receipt_wait, "--receipt-wait");
    o.response_timeout = smppd::bench::parse_duration_arg(timeout, "--timeout");
    target = smppd::bench::parse_endpoint_arg(o.target, false);
    if (o.system_id.size() > smpp::BindFields{}.system_id.kMaxLength ||
        o.password.size() > smpp::BindFields{}.password.kMaxLength ||
        o.system_type.size() > smpp::BindFields{}.system_type.kMaxLength) {
      throw std::invalid_argument("system_id, password or system_type too long for a bind");
    }
    if (o.source.size() > smpp::Address::kMaxLength ||
        o.destination.size() > smpp::Address::kMaxLength) {
      throw std::invalid_argument("--source / --destination: at most 20 characters");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "smpp_loadgen: %s\n", e.what());
    return 2;
  }
  if (o.receipts && o.bind == "transmitter" && o.receivers == 0) {
    std::fprintf(stderr, "smpp_loadgen: --receipts with --bind transmitter needs --receivers N\n");
    return 2;
  }
  smppd::bench::raise_fd_limit();
  smppd::bench::keep_freed_memory();
  signal(SIGPIPE, SIG_IGN);

  // The receipt table holds the messages between their response and their receipt: about a
  // window's worth when receipts come at once, rate x delay when the SMSC delays them. It starts
  // at the window's worth so that it stays in the L2 cache (sized for a million, it costs a cache
  // miss per lookup: a fifth of the generator's time), and doubles when a delay needs more.
  const std::size_t expected = std::size_t{o.sessions} * o.window * 2;
  Shared shared{o, ReceiptMatcher(o.receipts ? expected : 16, o.threads > 1), {}, {}};

  const unsigned threads = std::min(o.threads, o.sessions);
  std::vector<std::unique_ptr<Worker>> workers;
  for (unsigned i = 0; i < threads; ++i) {
    const auto senders = static_cast<unsigned>(share(o.sessions, threads, i));
    const auto receivers = static_cast<unsigned>(share(o.receivers, threads, i));
    const uint64_t budget = o.count > 0 ? share(o.count, threads, i) : UINT64_MAX;
    const double rate = o.rate * senders / o.sessions;
    workers.push_back(std::make_unique<Worker>(shared, senders, receivers, budget, rate));
  }
  Worker& main_worker = *workers[0];
  asio::io_context& io = main_worker.io();

  Summary summary;
  summary.o = &o;
  summary.target = target.address().to_string() + ":" + std::to_string(target.port());
  summary.sessions_wanted = o.sessions + o.receivers;
  int exit_code = 0;

  auto sum = [&](auto field) {
    uint64_t n = 0;
    for (auto& w : workers) n += (w->progress().*field).load(std::memory_order_relaxed);
    return n;
  };
  auto in_flight = [&] {
    uint64_t n = 0;
    for (auto& w : workers) n += w->in_flight();
    return n;
  };
  auto all_done_sending = [&] {
    for (auto& w : workers) {
      if (!w->progress().done_sending.load(std::memory_order_relaxed)) return false;
    }
    return true;
  };

  asio::signal_set signals(io, SIGINT, SIGTERM);
  // The first signal stops sending (the run drains and reports); a second one exits at once.
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    summary.interrupted = true;
    shared.stop.store(true);
    signals.async_wait([](const boost::system::error_code& again, int) {
      if (!again) std::_Exit(130);
    });
  });

  auto orchestrate = [&]() -> asio::awaitable<void> {
    asio::steady_timer timer(io);
    auto sleep = [&](milliseconds d) -> asio::awaitable<void> {
      timer.expires_after(d);
      co_await timer.async_wait(nothrow);
    };
    // 1. Connect and bind everything.
    const auto bind_started = Clock::now();
    for (auto& w : workers) asio::post(w->io(), [&w = *w, target] { w.connect(target); });
    while (sum(&Progress::bound) + sum(&Progress::failed) < summary.sessions_wanted &&
           Clock::now() - bind_started < o.bind_timeout + milliseconds(1000) &&
           !shared.stop.load()) {
      co_await sleep(milliseconds(1));
    }
    summary.bind_seconds = std::chrono::duration<double>(Clock::now() - bind_started).count();
    // 2. Send.
    if (sum(&Progress::bound) > 0 && !shared.stop.load()) {
      const uint64_t start = now_ns();
      shared.start_ns.store(start);
      for (auto& w : workers) asio::post(w->io(), [&w = *w] { w.start(); });
      uint64_t last_sent = 0, last_answered = 0, last_matched = 0;
      auto last_print = Clock::now();
      while (!all_done_sending()) {
        co_await sleep(milliseconds(10));
        if (o.progress && Clock::now() - last_print >= std::chrono::seconds(1)) {
          const double dt = std::chrono::duration<double>(Clock::now() - last_print).count();
          last_print = Clock::now();
          const uint64_t s = sum(&Progress::sent), a = sum(&Progress::outcomes),
                         m = sum(&Progress::matched);
          std::fprintf(stderr,
                       "progress t=%.1f sent=%llu answered=%llu receipts=%llu sent_rate=%.0f "
                       "answered_rate=%.0f receipt_rate=%.0f\n",
                       static_cast<double>(now_ns() - start) / 1e9,
                       static_cast<unsigned long long>(s), static_cast<unsigned long long>(a),
                       static_cast<unsigned long long>(m), static_cast<double>(s - last_sent) / dt,
                       static_cast<double>(a - last_answered) / dt,
                       static_cast<double>(m - last_matched) / dt);
          last_sent = s;
          last_answered = a;
          last_matched = m;
        }
      }
      // 3. Wait for the responses (each has its timeout), then for the receipts.
      const auto drain_started = Clock::now();
      while (in_flight() > 0 &&
             Clock::now() - drain_started < o.response_timeout + milliseconds(1000)) {
        co_await sleep(milliseconds(1));
      }
      if (o.receipts) {
        const auto wait_started = Clock::now();
        while (sum(&Progress::matched) < sum(&Progress::ok) &&
               Clock::now() - wait_started < o.receipt_wait) {
          co_await sleep(milliseconds(1));
        }
      }
    }
    // 4. Unbind and close.
    for (auto& w : workers) {
      asio::post(w->io(), [&w = *w] {
        w.mark_shutting_down();
        w.shutdown();
      });
    }
    const auto close_started = Clock::now();
    while (sum(&Progress::closed) + sum(&Progress::failed) < summary.sessions_wanted &&
           Clock::now() - close_started < milliseconds(2000)) {
      co_await sleep(milliseconds(1));
    }
    signals.cancel();
    for (auto& w : workers) w->io().stop();
  };
  asio::co_spawn(io, orchestrate(), asio::detached);

  std::vector<std::thread> pool;
  for (std::size_t i = 1; i < workers.size(); ++i) {
    pool.emplace_back([&w = *workers[i]] {
      auto guard = asio::make_work_guard(w.io());
      w.io().run();
    });
  }
  {
    auto guard = asio::make_work_guard(io);
    io.run();
  }
  for (auto& t : pool) t.join();

  Tally& t = summary.t;
  for (auto& w : workers) t.add(w->tally());
  summary.bound = sum(&Progress::bound);
  summary.failed = sum(&Progress::failed);
  summary.closed = sum(&Progress::closed);
  summary.sent = sum(&Progress::sent);
  summary.answered = 0;
  for (uint64_t c : t.statuses) summary.answered += c;
  summary.answered += t.other_status;
  summary.ok = sum(&Progress::ok);
  summary.unanswered = summary.sent - std::min(summary.sent, sum(&Progress::outcomes));
  const uint64_t start = shared.start_ns.load();
  auto seconds_since_start = [&](uint64_t at) {
    return at > start && start > 0 ? static_cast<double>(at - start) / 1e9 : 0.0;
  };
  summary.send_seconds = seconds_since_start(t.end_send_ns);
  summary.answer_seconds = seconds_since_start(t.last_answer_ns);
  summary.receipt_seconds = seconds_since_start(t.last_receipt_ns);
  if (o.receipts) {
    summary.receipts_expected = summary.ok;
    summary.matched = sum(&Progress::matched);
    summary.unmatched = shared.matcher.unmatched_receipts();
  }
  const auto cpu = smppd::bench::cpu_seconds();
  summary.cpu_user = cpu.user;
  summary.cpu_sys = cpu.system;
  summary.wall = std::chrono::duration<double>(Clock::now() - process_started).count();
  if (o.json) {
    print_json(summary);
  } else {
    print_text(summary);
  }
  if (summary.bound == 0) {
    exit_code = 2;
  } else if (!summary.all_ok()) {
    exit_code = 1;
  }
  return exit_code;
}
