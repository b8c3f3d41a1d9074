#include "sim/simulator.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <deque>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "core/log.hpp"
#include "sim/message_id.hpp"
#include "sim/message_table.hpp"
#include "sim/outcomes.hpp"
#include "smpp/segment.hpp"
#include "smpp/status.hpp"
#include "smpp/text.hpp"
#include "smpp/time.hpp"

namespace smppd::sim {

namespace st = smpp::status;
using session::Session;

namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

// Receipts are settled at most once per tick (late by up to a tick, never early), and in
// batches, so 50,000 messages a second cost 1,000 timer wake-ups, not 50,000.
constexpr auto kReceiptTick = 1ms;
constexpr std::size_t kSettleBatch = 4096;
constexpr auto kAcceptRetry = 100ms;

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Copies what fits: deliver_sm addresses hold 20 characters, data_sm ones 64.
template <std::size_t N>
void assign_truncated(smpp::CStr<N>& out, std::string_view s) {
  out.assign(s.substr(0, smpp::CStr<N>::kMaxLength));
}

std::string three_digits(unsigned v) {
  std::string s = std::to_string(v % 1000);
  return std::string(3 - s.size(), '0') + s;
}

// The text of a submission: short_message, or message_payload when short_message is empty.
std::span<const uint8_t> message_bytes(const smpp::ShortMessage& sm, const smpp::TlvList& tlvs) {
  if (!sm.empty()) return sm.bytes();
  if (auto payload = tlvs.get(smpp::tlv::message_payload)) return *payload;
  return {};
}

// A deliver_sm waiting for (or on its way to) a receiver.
struct Delivery {
  bool receipt = false;   // else an MO
  std::string system_id;  // whose receivers may take it; empty: anyone's
  smpp::DeliverSm pdu;
};

// The receiving sessions (bound rx or trx) of one system_id, or of all of them, and what waits
// for one of them.
struct Receivers {
  std::vector<Session*> sessions;
  std::size_t next = 0;  // round robin
  std::deque<Delivery> waiting;

  void remove(Session* s) {
    auto it = std::find(sessions.begin(), sessions.end(), s);
    if (it == sessions.end()) return;
    sessions.erase(it);
    if (next >= sessions.size()) next = 0;
  }
};

bool is_receiving(session::BindState state) {
  return state == session::BindState::bound_rx || state == session::BindState::bound_trx;
}

}  // namespace

// The handler of one session: forwards to the simulator until the simulator is destroyed.
class SimHandler final : public session::SessionHandler {
 public:
  explicit SimHandler(Simulator::Impl* impl) : impl_(impl) {}
  void detach() { impl_ = nullptr; }

  asio::awaitable<uint32_t> on_bind(Session& s, const session::BindRequest& bind) override;
  void on_bound(Session& s) override;
  void on_request(Session& s, smpp::Pdu& request) override;
  void on_response(Session& s, uint64_t cookie, session::Outcome outcome,
                   smpp::Pdu* response) override;
  void on_window_open(Session& s) override;
  void on_closed(Session& s, std::string_view reason) override;

 private:
  Simulator::Impl* impl_;
};

class Simulator::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(asio::io_context& io, const config::SimulatorConfig& config, SimulatorOptions options)
      : io_(io),
        config_(config),
        options_(std::move(options)),
        mix_(config.delivered, config.undeliverable, config.expired),
        injector_(config.throttle_rate, config.error_rate),
        ids_(options_.first_message_id.value_or(MessageIdSequence::first_from_clock())),
        table_(options_.max_pending_messages, options_.max_finished_messages),
        receipt_timer_(io, Clock::time_point::max()),
        mo_timer_(io) {
    auto s = std::make_shared<session::SessionSettings>();
    s->role = session::Role::smsc;
    s->system_id = options_.system_id;
    s->window_size = options_.window_size;
    s->enquire_link_interval = options_.enquire_link_interval;
    s->response_timeout = options_.response_timeout;
    settings_ = std::move(s);
  }

  void start() {
    asio::co_spawn(io_, receipt_loop(shared_from_this()), asio::detached);
    if (config_.mo_interval > 0ms) {
      asio::co_spawn(io_, mo_loop(shared_from_this()), asio::detached);
    }
  }

  tcp::endpoint listen(const tcp::endpoint& endpoint) {
    auto acceptor = std::make_unique<tcp::acceptor>(io_);
    acceptor->open(endpoint.protocol());
    acceptor->set_option(tcp::acceptor::reuse_address(true));
    acceptor->bind(endpoint);
    acceptor->listen();
    const tcp::endpoint bound = acceptor->local_endpoint();
    tcp::acceptor& a = *acceptor;
    acceptors_.push_back(std::move(acceptor));
    asio::co_spawn(io_, accept_loop(shared_from_this(), a), asio::detached);
    log::info("simulator {} listening on {}:{}", options_.system_id, bound.address().to_string(),
              bound.port());
    return bound;
  }

  void stop(session::Duration grace) {
    if (stopped_) return;
    stopped_ = true;
    stop_timers_and_acceptors();
    drop_queued("the simulator stopped");
    if (table_.pending() > 0) {
      log::info("simulator: {} messages pending at stop get no receipt", table_.pending());
    }
    // Shutting a session down may close it at once, and its on_closed changes sessions_.
    std::vector<std::shared_ptr<Session>> all;
    all.reserve(sessions_.size());
    for (auto& [id, entry] : sessions_) all.push_back(entry.session);
    for (auto& s : all) s->shutdown(grace, "simulator stopping");
  }

  // The Simulator object is going away: its sessions must not call back into this.
  void destroy() {
    stopped_ = true;
    stop_timers_and_acceptors();
    std::vector<std::shared_ptr<Session>> all;
    all.reserve(sessions_.size());
    for (auto& [id, entry] : sessions_) {
      entry.handler->detach();
      all.push_back(entry.session);
    }
    sessions_.clear();
    for (auto& s : all) s->close("simulator destroyed");
    by_system_.clear();
    any_ = Receivers{};
    in_flight_.clear();
  }

  bool send_mo(std::string_view source, std::string_view destination, std::string_view text,
               std::string_view system_id) {
    if (source.size() > smpp::Address::kMaxLength ||
        destination.size() > smpp::Address::kMaxLength) {
      log::warn("simulator: MO not sent: an address is longer than {} characters",
                smpp::Address::kMaxLength);
      return false;
    }
    const smpp::EncodedText encoded = smpp::encode_text(text);
    if (!encoded.ok()) {
      log::warn("simulator: MO not sent: the text is not valid UTF-8");
      return false;
    }
    smpp::SegmentOptions segment_options;
    segment_options.reference = static_cast<uint16_t>(mo_reference_++ & 0xFF);
    const smpp::Segmented parts = smpp::segment(encoded.bytes, encoded.alphabet, segment_options);
    if (!parts.ok()) {
      log::warn("simulator: MO not sent: {}", smpp::to_string(parts.error));
      return false;
    }
    smpp::SubmitSm tmpl;
    tmpl.source_addr.assign(source);
    tmpl.destination_addr.assign(destination);
    bool all_taken = true;
    for (smpp::SubmitSm& part : smpp::make_submits(parts, tmpl, encoded.data_coding)) {
      Delivery d;
      d.system_id = system_id;
      static_cast<smpp::SmFields&>(d.pdu) = std::move(static_cast<smpp::SmFields&>(part));
      all_taken = deliver(std::move(d)) && all_taken;
    }
    return all_taken;
  }

  SimulatorStats stats() const {
    SimulatorStats s = stats_;
    s.queued = queued_;
    s.pending_messages = table_.pending();
    return s;
  }
  std::size_t session_count() const { return sessions_.size(); }

  // ---- from the sessions ----

  uint32_t on_bind(Session& s, const session::BindRequest& bind) {
    uint32_t status = st::ESME_ROK;
    if (stopped_) {
      status = st::ESME_RBINDFAIL;
    } else if (!options_.credentials.empty()) {
      auto it = options_.credentials.find(bind.system_id);
      if (it == options_.credentials.end()) {
        status = st::ESME_RINVSYSID;
      } else if (it->second != bind.password) {
        status = st::ESME_RINVPASWD;
      }
    }
    if (status != st::ESME_ROK) {
      ++stats_.binds_refused;
      log::info("simulator: session {}: bind of '{}' refused: {}", s.id(), bind.system_id,
                smpp::status_name(status));
    }
    return status;
  }

  void on_bound(Session& s) {
    ++stats_.binds;
    log::info("simulator: session {} from {} bound as {} ({}, SMPP {})", s.id(),
              s.remote().address().to_string(), s.system_id(), session::state_name(s.state()),
              smpp::version_name(s.version()));
    if (!is_receiving(s.state())) return;
    Receivers& mine = by_system_[s.system_id()];
    mine.sessions.push_back(&s);
    any_.sessions.push_back(&s);
    drain(mine);
    drain(any_);
  }

  void on_window_open(Session& s) {
    if (!is_receiving(s.state())) return;
    if (auto it = by_system_.find(s.system_id()); it != by_system_.end()) drain(it->second);
    drain(any_);
  }

  void on_closed(Session& s, std::string_view reason) {
    log::info("simulator: session {} ({}) closed: {}", s.id(),
              s.system_id().empty() ? std::string("not bound") : s.system_id(), reason);
    any_.remove(&s);
    if (auto it = by_system_.find(s.system_id()); it != by_system_.end()) {
      it->second.remove(&s);
      if (it->second.sessions.empty() && it->second.waiting.empty()) by_system_.erase(it);
    }
    sessions_.erase(s.id());
  }

  void on_response(uint64_t cookie, session::Outcome outcome, const smpp::Pdu* response) {
    auto node = in_flight_.extract(cookie);
    if (node.empty()) return;
    Delivery& d = node.mapped();
    if (outcome == session::Outcome::response) {
      if (response->command_status == st::ESME_ROK) {
        ++stats_.deliveries_acked;
      } else {
        ++stats_.deliveries_rejected;
        log::debug("simulator: deliver_sm answered {}: dropped",
                   smpp::status_name(response->command_status));
      }
      return;
    }
    // No answer: the ESME may not have it. Send it again, before what queued up behind it.
    if (stopped_) {
      ++stats_.deliveries_dropped;
      return;
    }
    ++stats_.deliveries_retried;
    Receivers& r = receivers_for(d.system_id);
    r.waiting.push_front(std::move(d));
    ++queued_;
    drain(r);
  }

  void on_request(Session& s, smpp::Pdu& request) {
    using smpp::CommandId;
    const uint32_t seq = request.sequence_number;
    switch (request.command_id()) {
      case CommandId::submit_sm:
        on_submission<smpp::SubmitSmResp>(s, seq, *request.as<smpp::SubmitSm>());
        return;
      case CommandId::data_sm:
        on_submission<smpp::DataSmResp>(s, seq, *request.as<smpp::DataSm>());
        return;
      case CommandId::submit_multi:
        on_submission<smpp::SubmitMultiResp>(s, seq, *request.as<smpp::SubmitMulti>());
        return;
      case CommandId::query_sm:
        on_query_sm(s, seq, *request.as<smpp::QuerySm>());
        return;
      case CommandId::cancel_sm:
        on_cancel_sm(s, seq, *request.as<smpp::CancelSm>());
        return;
      case CommandId::replace_sm:
        on_replace_sm(s, seq, *request.as<smpp::ReplaceSm>());
        return;
      default: {
        // Broadcasts and the 3.3 queries: the simulator offers none of them.
        smpp::Pdu r = smpp::make_response(request.command_id(), seq, st::ESME_RINVCMDID);
        s.respond(r);
        return;
      }
    }
  }

 private:
  struct Entry {
    std::shared_ptr<Session> session;
    SimHandler* handler = nullptr;
  };

  // ---- submissions ----

  // The status a submission gets before it is looked at: an injected failure or a full table.
  uint32_t admission() {
    const uint32_t status = injector_.next();
    if (status == st::ESME_RTHROTTLED) {
      ++stats_.throttled;
    } else if (status == st::ESME_RSYSERR) {
      ++stats_.errors;
    } else if (table_.full()) {
      ++stats_.queue_full;
      return st::ESME_RMSGQFUL;
    }
    return status;
  }

  void refuse(Session& s, smpp::CommandId command, uint32_t seq, uint32_t status) {
    smpp::Pdu r = smpp::make_response(command, seq, status);
    s.respond(r);
  }

  // A new pending message with the fields every submission has; the caller adds destinations.
  Message new_message(Session& s, uint8_t registered_delivery, uint8_t data_coding) {
    Message m;
    do {
      m.id = ids_.next();
    } while (table_.contains(m.id));
    m.owner = s.system_id();
    m.registered_delivery = registered_delivery;
    m.data_coding = data_coding;
    m.submit_unix = unix_now();
    m.due = Clock::now() + config_.receipt_delay;
    return m;
  }

  // Keeps the message and returns its id as sent to the ESME.
  std::string accept(Message m) {
    const bool was_idle = table_.pending() == 0;
    const std::string id = format_message_id(m.id);
    table_.add(std::move(m));
    ++stats_.submits_accepted;
    // The receipt timer sleeps without end while nothing is pending.
    if (was_idle) receipt_timer_.cancel();
    return id;
  }

  // What differs between submit_sm, data_sm and submit_multi.
  static uint32_t invalid_status(const smpp::SubmitSm& sm) {
    return sm.destination_addr.empty() ? st::ESME_RINVDSTADR : st::ESME_ROK;
  }
  static uint32_t invalid_status(const smpp::DataSm& sm) {
    return sm.destination_addr.empty() ? st::ESME_RINVDSTADR : st::ESME_ROK;
  }
  static uint32_t invalid_status(const smpp::SubmitMulti& sm) {
    return sm.destinations.empty() ? st::ESME_RINVNUMDESTS : st::ESME_ROK;
  }
  static std::span<const uint8_t> text_of(const smpp::SubmitSm& sm) {
    return message_bytes(sm.short_message, sm.tlvs);
  }
  static std::span<const uint8_t> text_of(const smpp::DataSm& sm) {
    return message_bytes({}, sm.tlvs);
  }
  static std::span<const uint8_t> text_of(const smpp::SubmitMulti& sm) {
    return message_bytes(sm.short_message, sm.tlvs);
  }
  template <class Sm>
  static void set_destinations(Message& m, const Sm& sm) {
    m.destination = {sm.dest_addr_ton, sm.dest_addr_npi, {}};
    assign_truncated(m.destination.address, sm.destination_addr.view());
  }
  static void set_destinations(Message& m, const smpp::SubmitMulti& sm) {
    for (std::size_t i = 0; i < sm.destinations.size(); ++i) {
      const smpp::DestAddress& d = sm.destinations[i];
      // A distribution list gets one receipt, addressed from its name.
      Party p{d.dest_addr_ton, d.dest_addr_npi, {}};
      assign_truncated(p.address, d.address.view());
      if (i == 0) {
        m.destination = p;
      } else {
        m.more_destinations.push_back(p);
      }
    }
  }

  // submit_sm, data_sm, submit_multi: checked, then maybe failed on purpose (or for a full
  // table), else kept until its receipt time and answered with its new id.
  template <class Response, class Sm>
  void on_submission(Session& s, uint32_t seq, const Sm& sm) {
    uint32_t status = invalid_status(sm);
    if (status == st::ESME_ROK) status = admission();
    if (status != st::ESME_ROK) {
      refuse(s, Sm::kId, seq, status);
      return;
    }
    Message m = new_message(s, sm.registered_delivery, sm.data_coding);
    m.source = {sm.source_addr_ton, sm.source_addr_npi, {}};
    assign_truncated(m.source.address, sm.source_addr.view());
    set_destinations(m, sm);
    m.excerpt.assign(
        text_excerpt(text_of(sm), sm.data_coding, (sm.esm_class & smpp::esm_class::kUdhi) != 0));
    Response resp;
    resp.message_id.assign(accept(std::move(m)));
    smpp::Pdu r = smpp::make_pdu(seq, std::move(resp));
    s.respond(r);
  }

  // ---- query, cancel, replace ----

  // The message this id names for this session's system_id, with the receipts due by now
  // settled first, so a query sees the final state from the receipt time on.
  Message* lookup(Session& s, std::string_view message_id) {
    settle(Clock::now());
    const std::optional<uint32_t> id = parse_message_id(message_id);
    return id ? table_.find(*id, s.system_id()) : nullptr;
  }

  void on_query_sm(Session& s, uint32_t seq, const smpp::QuerySm& q) {
    ++stats_.queries;
    const Message* m = lookup(s, q.message_id.view());
    if (m == nullptr) {
      refuse(s, smpp::CommandId::query_sm, seq, st::ESME_RQUERYFAIL);
      return;
    }
    smpp::QuerySmResp resp;
    resp.message_id = q.message_id;
    if (!m->pending()) {
      resp.final_date.assign(smpp::format_time(smpp::SmppTime::from_unix_seconds(m->done_unix)));
    }
    resp.message_state = static_cast<uint8_t>(m->state);
    resp.error_code = m->error_code;
    smpp::Pdu r = smpp::make_pdu(seq, std::move(resp));
    s.respond(r);
  }

  void on_cancel_sm(Session& s, uint32_t seq, const smpp::CancelSm& c) {
    // Cancelling by addresses alone (an empty message_id) is not offered.
    Message* m = lookup(s, c.message_id.view());
    if (m == nullptr || !m->pending()) {
      refuse(s, smpp::CommandId::cancel_sm, seq, st::ESME_RCANCELFAIL);
      return;
    }
    m->state = smpp::MessageState::deleted;
    m->done_unix = unix_now();
    ++stats_.cancels;
    smpp::Pdu r = smpp::make_pdu(seq, smpp::CancelSmResp{});
    s.respond(r);
  }

  void on_replace_sm(Session& s, uint32_t seq, const smpp::ReplaceSm& rq) {
    Message* m = lookup(s, rq.message_id.view());
    if (m == nullptr || !m->pending()) {
      refuse(s, smpp::CommandId::replace_sm, seq, st::ESME_RREPLACEFAIL);
      return;
    }
    m->registered_delivery = rq.registered_delivery;
    m->excerpt.assign(
        text_excerpt(message_bytes(rq.short_message, rq.tlvs), m->data_coding, false));
    ++stats_.replaces;
    smpp::Pdu r = smpp::make_pdu(seq, smpp::ReplaceSmResp{});
    s.respond(r);
  }

  // ---- receipts ----

  // Gives every message due by `now` (at most `limit`) its final state and queues its receipts.
  std::size_t settle(Clock::time_point now, std::size_t limit = kSettleBatch * 1024) {
    const int64_t done = unix_now();
    return table_.settle_due(
        now,
        [&](Message& m) {
          m.done_unix = done;
          settle_destination(m, m.destination, true);
          for (const Party& p : m.more_destinations) settle_destination(m, p, false);
        },
        limit);
  }

  void settle_destination(Message& m, const Party& to, bool first) {
    const smpp::MessageState state = mix_.next();
    switch (state) {
      case smpp::MessageState::delivered:
        ++stats_.delivered;
        break;
      case smpp::MessageState::undeliverable:
        ++stats_.undeliverable;
        break;
      default:
        ++stats_.expired;
        break;
    }
    if (first) {
      m.state = state;
      m.error_code = error_code_for(state);
    }
    if (receipt_requested(m.registered_delivery, state)) deliver(make_receipt(m, to, state));
  }

  Delivery make_receipt(const Message& m, const Party& to, smpp::MessageState state) {
    Delivery d;
    d.receipt = true;
    d.system_id = m.owner;
    // From the handset the message went to, to the address that sent it.
    d.pdu.source_addr_ton = to.ton;
    d.pdu.source_addr_npi = to.npi;
    assign_truncated(d.pdu.source_addr, to.address.view());
    d.pdu.dest_addr_ton = m.source.ton;
    d.pdu.dest_addr_npi = m.source.npi;
    assign_truncated(d.pdu.destination_addr, m.source.address.view());
    smpp::Receipt r;
    r.id = format_message_id(m.id);
    r.sub = "001";
    r.dlvrd = state == smpp::MessageState::delivered ? "001" : "000";
    r.submit_date = smpp::format_receipt_date(smpp::SmppTime::from_unix_seconds(m.submit_unix));
    r.done_date = smpp::format_receipt_date(smpp::SmppTime::from_unix_seconds(m.done_unix));
    r.state = state;
    r.err = three_digits(error_code_for(state));
    r.text = m.excerpt.view();
    // Built with TLVs; the session removes them for a 3.3 receiver.
    smpp::fill_receipt(d.pdu, r, smpp::Version::v34);
    return d;
  }

  // The coroutines keep the Impl alive through their first parameter: a coroutine's parameters
  // live in its frame from its creation, so the Impl outlives them even when the Simulator that
  // owned it is destroyed first.
  asio::awaitable<void> receipt_loop(std::shared_ptr<Impl> /*keep_alive*/) {
    Clock::time_point last = Clock::now();
    while (!stopped_) {
      const std::optional<Clock::time_point> due = table_.next_due();
      receipt_timer_.expires_at(due ? std::max(*due, last + kReceiptTick)
                                    : Clock::time_point::max());
      co_await receipt_timer_.async_wait(nothrow);
      if (stopped_) break;
      last = Clock::now();
      if (settle(last, kSettleBatch) == kSettleBatch) {
        // More are due: let the sessions write and read before the next batch.
        co_await asio::post(io_, asio::use_awaitable);
      }
    }
  }

  asio::awaitable<void> mo_loop(std::shared_ptr<Impl> /*keep_alive*/) {
    uint64_t n = 0;
    while (!stopped_) {
      mo_timer_.expires_after(config_.mo_interval);
      auto [ec] = co_await mo_timer_.async_wait(nothrow);
      if (stopped_ || ec) break;
      send_mo(options_.mo_source, options_.mo_destination,
              "Simulated MO message " + std::to_string(++n), {});
    }
  }

  // ---- deliveries ----

  Receivers& receivers_for(const std::string& system_id) {
    return system_id.empty() ? any_ : by_system_[system_id];
  }

  // Sends now if a receiver has room and nothing waits ahead of it, else queues.
  bool deliver(Delivery d) {
    if (stopped_) {
      ++stats_.deliveries_dropped;
      return false;
    }
    Receivers& r = receivers_for(d.system_id);
    if (r.waiting.empty() && try_send(r, d)) return true;
    if (queued_ >= options_.max_queued_deliveries) {
      ++stats_.deliveries_dropped;
      const auto now = Clock::now();
      if (stats_.deliveries_dropped == 1 || now - last_overflow_log_ >= 1s) {
        last_overflow_log_ = now;
        log::warn("simulator: delivery queue full ({} waiting): {} {} dropped ({} so far)", queued_,
                  d.receipt ? "receipt for" : "MO to",
                  d.system_id.empty() ? std::string("any receiver") : d.system_id,
                  stats_.deliveries_dropped);
      }
      return false;
    }
    r.waiting.push_back(std::move(d));
    ++queued_;
    return true;
  }

  // Offers `d` to the receivers in turn; true when one took it (`d` is then moved from).
  bool try_send(Receivers& r, Delivery& d) {
    const std::size_t n = r.sessions.size();
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t at = (r.next + i) % n;
      Session* s = r.sessions[at];
      // Each full session is asked anyway: the refusal is what makes it call on_window_open.
      smpp::Pdu pdu = smpp::make_pdu(0, d.pdu);
      const uint64_t cookie = ++last_cookie_;
      if (s->send_request(pdu, cookie) != session::SendResult::sent) continue;
      r.next = (at + 1) % n;
      ++(d.receipt ? stats_.receipts_sent : stats_.mos_sent);
      in_flight_.emplace(cookie, std::move(d));
      return true;
    }
    return false;
  }

  void drain(Receivers& r) {
    while (!r.waiting.empty() && try_send(r, r.waiting.front())) {
      r.waiting.pop_front();
      --queued_;
    }
  }

  void drop_queued(std::string_view why) {
    std::size_t dropped = 0;
    auto clear = [&](Receivers& r) {
      dropped += r.waiting.size();
      r.waiting.clear();
    };
    clear(any_);
    for (auto& [id, r] : by_system_) clear(r);
    if (dropped > 0) log::info("simulator: {} queued deliveries dropped: {}", dropped, why);
    stats_.deliveries_dropped += dropped;
    queued_ = 0;
  }

  // ---- connections ----

  void stop_timers_and_acceptors() {
    for (auto& a : acceptors_) {
      boost::system::error_code ignored;
      a->close(ignored);
    }
    receipt_timer_.cancel();
    mo_timer_.cancel();
  }

  asio::awaitable<void> accept_loop(std::shared_ptr<Impl> /*keep_alive*/, tcp::acceptor& acceptor) {
    while (!stopped_) {
      auto [ec, socket] = co_await acceptor.async_accept(nothrow);
      if (stopped_) break;
      if (ec) {
        if (ec == asio::error::operation_aborted) break;
        // Out of descriptors and the like: pause rather than spin.
        log::warn("simulator: accept failed: {}", ec.message());
        asio::steady_timer pause(io_, kAcceptRetry);
        co_await pause.async_wait(nothrow);
        continue;
      }
      start_session(std::move(socket));
    }
  }

  void start_session(tcp::socket socket) {
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto handler = std::make_unique<SimHandler>(this);
    SimHandler* h = handler.get();
    auto s = std::make_shared<Session>(options_.tls
                                           ? session::Transport(std::move(socket), *options_.tls)
                                           : session::Transport(std::move(socket)),
                                       settings_, std::move(handler));
    ++stats_.sessions_accepted;
    sessions_.emplace(s->id(), Entry{s, h});
    s->start();
  }

  asio::io_context& io_;
  config::SimulatorConfig config_;
  SimulatorOptions options_;
  std::shared_ptr<const session::SessionSettings> settings_;
  OutcomeMix mix_;
  FaultInjector injector_;
  MessageIdSequence ids_;
  MessageTable table_;
  asio::steady_timer receipt_timer_;
  asio::steady_timer mo_timer_;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors_;
  std::unordered_map<uint64_t, Entry> sessions_;
  std::unordered_map<std::string, Receivers> by_system_;
  Receivers any_;
  std::unordered_map<uint64_t, Delivery> in_flight_;  // by cookie
  std::size_t queued_ = 0;
  uint64_t last_cookie_ = 0;
  uint32_t mo_reference_ = 0;
  Clock::time_point last_overflow_log_{};
  SimulatorStats stats_;
  bool stopped_ = false;
};

// ---- the handler ----

asio::awaitable<uint32_t> SimHandler::on_bind(Session& s, const session::BindRequest& bind) {
  co_return impl_ != nullptr ? impl_->on_bind(s, bind) : st::ESME_RBINDFAIL;
}
void SimHandler::on_bound(Session& s) {
  if (impl_ != nullptr) impl_->on_bound(s);
}
void SimHandler::on_request(Session& s, smpp::Pdu& request) {
  if (impl_ != nullptr) {
    impl_->on_request(s, request);
  } else {
    smpp::Pdu r =
        smpp::make_response(request.command_id(), request.sequence_number, st::ESME_RSYSERR);
    s.respond(r);
  }
}
void SimHandler::on_response(Session&, uint64_t cookie, session::Outcome outcome,
                             smpp::Pdu* response) {
  if (impl_ != nullptr) impl_->on_response(cookie, outcome, response);
}
void SimHandler::on_window_open(Session& s) {
  if (impl_ != nullptr) impl_->on_window_open(s);
}
void SimHandler::on_closed(Session& s, std::string_view reason) {
  if (impl_ != nullptr) impl_->on_closed(s, reason);
}

// ---- the facade ----

Simulator::Simulator(asio::io_context& io, const config::SimulatorConfig& config,
                     SimulatorOptions options)
    : impl_(std::make_shared<Impl>(io, config, std::move(options))) {
  impl_->start();
}

Simulator::~Simulator() {
  impl_->destroy();
}

tcp::endpoint Simulator::listen(const tcp::endpoint& endpoint) {
  return impl_->listen(endpoint);
}

void Simulator::stop(session::Duration grace) {
  impl_->stop(grace);
}

bool Simulator::send_mo(std::string_view source, std::string_view destination,
                        std::string_view text, std::string_view system_id) {
  return impl_->send_mo(source, destination, text, system_id);
}

SimulatorStats Simulator::stats() const {
  return impl_->stats();
}

std::size_t Simulator::session_count() const {
  return impl_->session_count();
}

}  // namespace smppd::sim
