// One SMPP session over TCP or TLS, in either role: a reader, a single writer and a clock, all
// coroutines on the session's executor (one thread), so the session needs no lock and no
// session ever waits for another.
//
//  reader  reads what the socket has (many PDUs per read), decodes, applies the bind state
//          machine, answers what the protocol answers itself (enquire_link, unbind, binds,
//          errors) and hands other requests and responses to the handler. When the handler
//          holds `window_size` requests unanswered, the reader stops reading: back-pressure
//          goes to the peer's TCP window instead of our memory.
//  writer  drains one byte buffer that every response and request is encoded into, so a
//          burst of PDUs is one write.
//  clock   one timer for every deadline: bind, read, write, idle, enquire_link, each request's
//          response timeout, a health probe's, shutdown. A timeout is an outcome handed to the
//          handler, never a forgotten request.
//
// Memory: an idle session holds no buffers (they grow with a burst and are given back after
// it), no window table, three coroutine frames and three timers.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/counters.hpp"
#include "session/bind_state.hpp"
#include "session/transport.hpp"
#include "session/shared_window.hpp"
#include "session/window.hpp"
#include "smpp/codec.hpp"
#include "smpp/command.hpp"
#include "smpp/status.hpp"
#include "smpp/version.hpp"

namespace smppd::session {

using Duration = std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Fixed for the life of a session, shared by every session of a listener or upstream.
// Where a session counts the PDUs it reads and writes: smppd_pdus_total{side,direction,command}
// and, for responses with an error, smppd_pdu_errors_total{side,direction,command_status}. Two
// blocks of the registry (core/counters.hpp): a table lookup and an add per PDU.
class PduCounters {
 public:
  // `side`: "client" (sessions of the listeners) or "upstream" (connections to SMSCs).
  PduCounters(Counters& counters, std::string_view side);
  void count(bool sent, uint32_t command_id, uint32_t command_status) const {
    counters_.add(CounterId{pdus_ + (sent ? kCommands : 0) +
                            static_cast<uint32_t>(smpp::command_ordinal(command_id))});
    if (command_status != 0) {
      counters_.add(CounterId{errors_ + (sent ? kStatuses : 0) +
                              static_cast<uint32_t>(smpp::status_ordinal(command_status))});
    }
  }

 private:
  static constexpr uint32_t kCommands = smpp::kCommandOrdinals;
  static constexpr uint32_t kStatuses = smpp::kStatusOrdinals;
  Counters& counters_;
  uint32_t pdus_;
  uint32_t errors_;
};

struct SessionSettings {
  Role role = Role::smsc;
  std::string system_id = "smppd";  // smsc role: the system_id in bind responses
  // smsc role: the versions served. A bind asking for another version is served with the
  // highest listed one below it when auto_negotiate is on, and refused otherwise.
  std::vector<smpp::Version> versions = {smpp::Version::v33, smpp::Version::v34,
                                         smpp::Version::v50};
  bool auto_negotiate = true;
  Duration bind_timeout = 30s;  // smsc: from connect to bind; esme: for the bind response
  Duration response_timeout = 30s;
  Duration enquire_link_interval = 30s;  // silence before we send enquire_link; 0: never
  Duration enquire_link_timeout = 10s;
  Duration read_timeout = 0ms;   // nothing received for this long: close; 0: no limit
  Duration write_timeout = 30s;  // one write taking longer: close
  Duration idle_timeout = 0ms;   // no request either way for this long: unbind; 0: no limit
  uint32_t window_size = 100;    // requests in flight, in each direction
  uint32_t max_pdu_size = smpp::kDefaultMaxPduSize;
  // Output queued for a peer that does not read it: at this many bytes the reader stops reading
  // (back-pressure, as for the window). A peer not yet bound is closed then; a bound one is
  // closed when it stays at the cap for write_timeout. What the session itself answers
  // (enquire_link_resp, generic_nack, ESME_RINVBNDSTS) is bounded by this; what the handler
  // sends is bounded by the windows.
  std::size_t max_pending_output = 256 * 1024;
  // A peer's unbind that follows requests not answered yet: unbind_resp waits for their answers
  // at most this long.
  Duration unbind_grace = 60s;
  // esme: a bind_resp without sc_interface_version leaves the session at versions[0] (the
  // operator said so) instead of 3.3, as the spec would take it (3.4 §5.3.2.25).
  bool keep_version_unannounced = false;
  // Where its PDUs are counted (null: not counted); outlives the session.
  const PduCounters* pdu_counters = nullptr;
};

enum class Outcome : uint8_t {
  response,            // the peer answered (any command_status, generic_nack included)
  malformed_response,  // the peer answered with a PDU we could not decode
  timeout,             // no answer within the response timeout
  closed,              // the session closed first
};

struct BindRequest {
  smpp::CommandId command{};
  std::string system_id;
  std::string password;
  std::string system_type;
  uint8_t interface_version = 0;
  smpp::Version version{};  // the version the session will be served with
  uint8_t addr_ton = 0;
  uint8_t addr_npi = 0;
  std::string address_range;
};

// Counted by the session, read by the handler when it closes.
struct SessionStats {
  uint64_t requests_received = 0;
  uint64_t responses_received = 0;
  uint64_t rejected_state = 0;  // answered ESME_RINVBNDSTS / ESME_RALYBND
  uint64_t decode_errors = 0;   // answered with an error response or generic_nack
  uint64_t unknown_responses = 0;
  uint64_t tlvs_stripped = 0;          // towards a 3.3 peer
  uint64_t refused_shutting_down = 0;  // requests answered ESME_RTHROTTLED during shutdown
  uint64_t output_pauses = 0;          // times the reader stopped at max_pending_output
  uint64_t refused_shared_window = 0;  // requests answered ESME_RMSGQFUL (share_window)
};

enum class SendResult : uint8_t { sent, window_full, not_allowed, closed };

class Session;

// What a session asks of its owner. Called on the session's executor only.
class SessionHandler {
 public:
  virtual ~SessionHandler() = default;
  // smsc role: a bind arrived in OPEN (its version already accepted). Returns the
  // command_status for the bind response: 0 binds, anything else refuses and closes.
  virtual asio::awaitable<uint32_t> on_bind(Session& session, const BindRequest& bind);
  virtual void on_bound(Session&) {}
  // esme role: the response to our bind; the session is bound when its status is 0.
  virtual void on_bind_response(Session&, const smpp::Pdu&) {}
  // A request the state allows, other than those the session answers itself (binds, unbind,
  // enquire_link). The handler answers it with Session::respond(), now or later; until then
  // it counts against the window. The PDU may be moved from.
  virtual void on_request(Session& session, smpp::Pdu& request) = 0;
  // The outcome of a request sent with send_request(). `response` is set for Outcome::response.
  virtual void on_response(Session&, uint64_t /*cookie*/, Outcome, smpp::Pdu* /*response*/) {}
  // A response that matches no request in flight (its request may have timed out before it).
  // True when the handler knew it; else it is counted as unknown.
  virtual bool on_unmatched_response(Session&, smpp::Pdu& /*response*/) { return false; }
  // send_request() refused with window_full earlier, and a slot is free now.
  virtual void on_window_open(Session&) {}
  // Once, when the session is closed. Every waiting request had its outcome before.
  virtual void on_closed(Session&, std::string_view /*reason*/) {}
};

// Sessions of one executor, for shutdown. Not thread safe: used on that executor only.
class SessionList {
 public:
  void add(Session* s);
  void remove(Session* s);
  template <class F>
  void for_each(F f);
  std::size_t size() const { return size_; }

 private:
  Session* head_ = nullptr;
  std::size_t size_ = 0;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Transport transport, std::shared_ptr<const SessionSettings> settings,
          std::unique_ptr<SessionHandler> handler, SessionList* list = nullptr);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Starts the reader, writer and clock (after the TLS handshake, for TLS).
  void start();

  // esme role: sends this bind request; the handler hears on_bind_response.
  void bind(smpp::Pdu& bind_request, smpp::Version version);

  // Answers a request handed to on_request (same sequence_number). False when closed.
  bool respond(smpp::Pdu& response);

  // Sends a request; its outcome reaches on_response with `cookie`. The sequence number is
  // assigned here.
  SendResult send_request(smpp::Pdu& request, uint64_t cookie);
  bool window_full() const { return window_.full(); }

  // Sends a request outside the window, for a health check (an enquire_link, or a submit_sm
  // whose answer only shows that the peer is alive). Its outcome reaches on_response with
  // `cookie` within `timeout`: response (any status), malformed_response, timeout or closed.
  // A probe takes no window slot, so it never holds back traffic, and its timeout does not
  // close the session (the keep-alive enquire_link does that). One at a time: window_full
  // while the previous probe waits.
  SendResult send_probe(smpp::Pdu& request, uint64_t cookie, Duration timeout);

  // Graceful end, at most `grace` long: new requests from the peer are answered ESME_RTHROTTLED
  // (come back later) and none is sent to it; once every request in flight either way has its
  // answer, the session unbinds, waits for the unbind_resp, then closes. So an SMSC's window
  // drains before it sees the unbind, and a client gets every response before it.
  void shutdown(Duration grace, std::string_view reason = "shutdown");
  // Closes now: every waiting request gets Outcome::closed, then the handler hears on_closed.
  void close(std::string_view reason);

  uint64_t id() const { return id_; }
  Role role() const { return settings_->role; }
  BindState state() const { return state_; }
  smpp::Version version() const { return version_; }
  // esme: whether the SMSC's bind_resp carried sc_interface_version.
  bool peer_announced_version() const { return peer_announced_version_; }
  const std::string& system_id() const { return system_id_; }  // the bound peer's
  const tcp::endpoint& remote() const { return remote_; }
  const SessionStats& stats() const { return stats_; }
  const SessionSettings& settings() const { return *settings_; }
  uint32_t requests_in_flight_from_peer() const { return inbound_; }
  // Counts the requests this session hands its handler, and their answers, in `window` too,
  // and answers those beyond its limit ESME_RMSGQFUL (a client's window across its sessions).
  // On the session's executor; null stops counting. What is in flight moves with it.
  void share_window(std::shared_ptr<SharedWindow> window);
  uint32_t requests_in_flight_to_peer() const { return window_.size(); }
  // Bytes encoded for the peer and not yet written.
  std::size_t pending_output() const { return tx_.size() + tx_writing_.size(); }
  SessionHandler& handler() { return *handler_; }
  asio::any_io_executor executor();

 private:
  friend class SessionList;

  // Each loop owns the session through its parameter, which lives in the coroutine frame from
  // the moment start() creates it: an owner that lets go of a started session (even one closed
  // before its loops first ran) never leaves them with a destroyed session.
  asio::awaitable<void> read_loop(std::shared_ptr<Session> self);
  asio::awaitable<void> write_loop(std::shared_ptr<Session> self);
  asio::awaitable<void> clock_loop(std::shared_ptr<Session> self);
  // The write timeout starts: the writer is about to wait for the socket.
  void start_write_clock();
  asio::awaitable<void> serve_bind();

  void process_input();
  void dispatch(smpp::Pdu& pdu);
  void on_response_pdu(smpp::Pdu& pdu);
  // The probe's outcome, if `seq` is the probe's (kAnyProbe: whatever probe is waiting; never
  // a sequence number off the wire, which are at most 0x7FFFFFFF).
  static constexpr uint32_t kAnyProbe = 0xFFFFFFFF;
  bool end_probe(uint32_t seq, Outcome outcome, smpp::Pdu* response);
  void on_decode_error(const smpp::DecodeError& error);
  // The clock's work: every deadline checked, the earliest still to come returned.
  Clock::time_point check_deadlines(Clock::time_point now);
  static constexpr Clock::time_point kNever = Clock::time_point::max();
  Clock::time_point close_at(Clock::time_point t, Clock::time_point now, std::string_view reason);
  Clock::time_point check_bind(Clock::time_point now);
  Clock::time_point check_read(Clock::time_point now);
  Clock::time_point check_write(Clock::time_point now);
  Clock::time_point check_enquire_link(Clock::time_point now);
  Clock::time_point check_idle(Clock::time_point now);
  Clock::time_point check_requests(Clock::time_point now);
  Clock::time_point check_peer_unbind(Clock::time_point now);
  Clock::time_point check_output(Clock::time_point now);
  Clock::time_point check_probe(Clock::time_point now);
  Clock::time_point check_unbind(Clock::time_point now);
  Clock::time_point check_grace_period(Clock::time_point now);

  void write_pdu(smpp::Pdu& pdu);
  void write_header_only(smpp::CommandId id, uint32_t status, uint32_t seq);
  void answer(smpp::CommandId request, uint32_t seq, uint32_t status);
  uint32_t send_control(smpp::Pdu& request, Duration timeout, Clock::time_point& deadline);
  uint32_t take_sequence();
  void close_after_flush(std::string_view reason);
  void maybe_finish_shutdown();
  // The peer's unbind, once every request received before it has its answer.
  void answer_peer_unbind();
  bool output_full() const { return pending_output() >= settings_->max_pending_output; }
  // Whether the reader may decode and hand over more input now.
  bool may_take_input() const {
    return (phase_ == Phase::open || phase_ == Phase::draining) && !bind_pending_ &&
           inbound_ < settings_->window_size && !output_full();
  }
  void rearm(Clock::time_point deadline);
  void wake_writer();

  Transport transport_;
  std::shared_ptr<const SessionSettings> settings_;
  std::unique_ptr<SessionHandler> handler_;
  SessionList* list_;
  Session* prev_ = nullptr;
  Session* next_ = nullptr;

  asio::steady_timer wake_;      // the writer waits here for output
  asio::steady_timer deadline_;  // the clock
  asio::steady_timer resume_;    // the reader waits here while the window is full

  std::vector<uint8_t> rx_;  // received, not yet decoded
  std::size_t rx_pos_ = 0;
  std::vector<uint8_t> tx_;          // encoded, waiting for the writer
  std::vector<uint8_t> tx_writing_;  // being written
  OutboundWindow window_;
  SessionStats stats_;

  uint64_t id_;
  tcp::endpoint remote_;
  std::string system_id_;
  std::string close_reason_;
  smpp::Version version_;
  BindState state_ = BindState::open;
  // Where the session is in its life, beside the SMPP bind state: it only moves forward, from
  // starting to closed (draining and peer_unbinding may follow one another).
  enum class Phase : uint8_t {
    starting,        // the TLS handshake; nothing is read or written yet
    open,            // reading, answering, sending
    draining,        // shutdown(): nothing new either way; once all is answered, our unbind
    peer_unbinding,  // the peer unbound: nothing more is read; its last requests are answered,
                     // then unbind_resp
    flushing,        // what is queued is written, then the connection closes
    closed,
  };
  Phase phase_ = Phase::starting;
  BindState bound_before_unbind_ = BindState::open;          // what our shutdown's unbind ended
  bool ending() const { return phase_ >= Phase::flushing; }  // flushing or closed
  bool is_closed() const { return phase_ == Phase::closed; }
  // shutdown() was called (its deadline is set), whatever phase followed.
  bool shutdown_requested() const { return shutdown_deadline_ != kNever; }

  uint32_t last_seq_ = 0;
  uint32_t inbound_ = 0;  // requests handed to the handler and not answered
  std::shared_ptr<SharedWindow> shared_window_;  // counts inbound_ too, when set
  uint32_t enquire_seq_ = 0, unbind_seq_ = 0, bind_seq_ = 0;
  uint32_t probe_seq_ = 0;  // a health check waiting for its response (send_probe)
  uint64_t probe_cookie_ = 0;
  Clock::time_point started_, last_read_, last_activity_, write_started_;
  Clock::time_point enquire_deadline_, unbind_deadline_, bind_deadline_;
  Clock::time_point shutdown_deadline_ = kNever;  // set by shutdown()
  Clock::time_point probe_deadline_;
  Clock::time_point peer_unbind_deadline_;
  Clock::time_point output_blocked_since_;
  uint32_t peer_unbind_seq_ = 0;
  Clock::time_point armed_ = Clock::time_point::max();
  Clock::time_point rearm_during_check_ = Clock::time_point::max();
  bool clock_checking_ = false;

  bool writing_ = false;
  // A write had to wait for room in the socket: the reactor now also watches the socket for
  // writability, which the reader undoes before its next wait (see register_for_reads_only).
  bool watched_for_output_ = false;
  bool writer_idle_ = false;
  bool reader_paused_ = false;
  bool window_wanted_ = false;   // a send was refused for a full window
  bool bind_pending_ = false;    // smsc role: a bind is buffered in bind_request_
  bool output_blocked_ = false;  // the reader waits for output below max_pending_output
  bool peer_announced_version_ = false;
  BindRequest bind_request_;
  uint32_t bind_request_seq_ = 0;
};

template <class F>
void SessionList::for_each(F f) {
  for (Session* s = head_; s != nullptr;) {
    Session* next = s->next_;
    f(*s);
    s = next;
  }
}

}  // namespace smppd::session
