// The built-in SMSC simulator: an SMSC that ESMEs (and smppd's own upstreams) can bind to. It
// accepts submit_sm, data_sm and submit_multi with its own message ids, answers query_sm,
// cancel_sm and replace_sm, sends delivery receipts after the configured delay with the
// configured mix of outcomes, injects ESME_RTHROTTLED / ESME_RSYSERR at the configured rates and
// sends MO messages (on request and every mo_interval).
//
// Everything runs on one io_context (its sessions, its timers): no locks. Every choice is
// deterministic (see outcomes.hpp), so a test sending N messages can count what comes back.
//
// Receipts and MOs go out as deliver_sm to a session bound as receiver or transceiver: receipts
// to the system_id that submitted, MOs to the system_id asked for or to any, round robin over
// its sessions. What finds no such session (or only full windows) waits in a bounded queue and
// goes out when one binds or a window opens; what overflows the queue is counted and logged.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "session/session.hpp"

namespace smppd::sim {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

struct SimulatorOptions {
  std::string system_id = "smppd-sim";  // in bind responses
  // When not empty, only these system_id -> password pairs may bind (ESME_RINVSYSID /
  // ESME_RINVPASWD otherwise); when empty, any system_id and password bind.
  std::map<std::string, std::string> credentials;
  uint32_t window_size = 100;  // requests in flight per session, each way
  session::Duration enquire_link_interval = 30s;
  session::Duration response_timeout = 30s;  // for our deliver_sm
  // MOs and receipts waiting for a receiver (or a free window); beyond it they are dropped and
  // counted.
  std::size_t max_queued_deliveries = 100'000;
  // Messages waiting for their receipt time; beyond it submits get ESME_RMSGQFUL.
  std::size_t max_pending_messages = 1'000'000;
  // Final states kept for query_sm after the receipt time (the oldest are forgotten first).
  std::size_t max_finished_messages = 100'000;
  // The first message id; empty: from the clock (see MessageIdSequence::first_from_clock).
  std::optional<uint32_t> first_message_id;
  // Addresses of the spontaneous MOs sent every mo_interval.
  std::string mo_source = "1234567890";
  std::string mo_destination = "12345";
  // When set, every connection speaks TLS with this server context (net::make_server_tls_context):
  // an SMSC to test TLS upstreams against. Not offered by `smppd sim` yet.
  std::shared_ptr<asio::ssl::context> tls;
};

// Counts since construction (and two gauges).
struct SimulatorStats {
  uint64_t sessions_accepted = 0;
  uint64_t binds = 0;
  uint64_t binds_refused = 0;
  uint64_t submits_accepted = 0;  // submit_sm, data_sm and submit_multi answered with an id
  uint64_t throttled = 0;         // answered ESME_RTHROTTLED (injected)
  uint64_t errors = 0;            // answered ESME_RSYSERR (injected)
  uint64_t queue_full = 0;        // answered ESME_RMSGQFUL (too many pending messages)
  uint64_t queries = 0;
  uint64_t cancels = 0;    // successful cancel_sm
  uint64_t replaces = 0;   // successful replace_sm
  uint64_t delivered = 0;  // messages settled in each final state
  uint64_t undeliverable = 0;
  uint64_t expired = 0;
  uint64_t receipts_sent = 0;        // deliver_sm receipts sent (a retry counts again)
  uint64_t mos_sent = 0;             // deliver_sm MO parts sent (a retry counts again)
  uint64_t deliveries_acked = 0;     // answered with status 0
  uint64_t deliveries_rejected = 0;  // answered with another status: dropped
  uint64_t deliveries_retried = 0;   // unanswered (timeout, session closed): queued again
  uint64_t deliveries_dropped = 0;   // the queue was full, or the simulator stopped
  std::size_t queued = 0;            // gauge: waiting for a receiver
  std::size_t pending_messages = 0;  // gauge: waiting for their receipt time
};

class Simulator {
 public:
  // Throws std::invalid_argument for an invalid configuration (rates outside 0-100...).
  Simulator(asio::io_context& io, const config::SimulatorConfig& config,
            SimulatorOptions options = {});
  // Closes what is still open at once (call stop() and run the io_context for a graceful end).
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  // Starts accepting on this endpoint (port 0: any free port); returns the bound endpoint.
  // Throws boost::system::system_error when it cannot listen. May be called more than once.
  tcp::endpoint listen(const tcp::endpoint& endpoint);

  // Stops accepting and timers, and unbinds every session (Session::shutdown), waiting at most
  // `grace` for the outstanding responses. Receipts not yet due and queued deliveries are dropped.
  // Once the sessions are closed the simulator holds no more work on the io_context.
  void stop(session::Duration grace);

  // Sends an MO deliver_sm (esm_class 0) from `source` to `destination`, the UTF-8 `text` in
  // GSM 03.38 when it fits, else UCS-2, split with a UDH when longer than one message. Goes to a
  // receiver of `system_id`, or of any system_id when empty; waits in the queue when there is
  // none. False when it was dropped (the queue is full, or the simulator stopped).
  bool send_mo(std::string_view source, std::string_view destination, std::string_view text,
               std::string_view system_id = {});

  SimulatorStats stats() const;
  // Sessions open (bound or not).
  std::size_t session_count() const;

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace smppd::sim
