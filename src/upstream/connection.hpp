// One SMPP connection of a pool to one host, in the ESME role: connect (with a timeout), TLS
// if configured, bind, carry requests, and reconnect with exponential back-off and jitter
// whenever the session ends — so an SMSC that is down sees a trickle of attempts, not a storm,
// and a bind refused with ESME_RALYBND (the SMSC still holds the old bind) waits and retries.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "upstream/pool.hpp"

namespace smppd::upstream {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(std::shared_ptr<Pool> pool, std::size_t slot, std::size_t host,
             asio::any_io_executor executor);

  void start();
  void stop(Duration grace);
  // Ends the session gracefully (unbind after in-flight responses) and connects again at once.
  void recycle(Duration grace);
  // From any thread: sends the request on this connection.
  void send(Pool::Waiting request);
  // A health check (type enquire_link or submit, see health.hpp), run on this connection's
  // executor: empty when the SMSC answered within `timeout`, else why not; nullopt when there
  // was nothing to check (not bound, closing, unbinding, or a check already waiting).
  asio::awaitable<std::optional<std::string>> check(std::shared_ptr<Connection> self,
                                                    config::HealthCheckType type, Duration timeout);
  const std::string& host_text() const { return host_text_; }
  const asio::any_io_executor& executor() const { return executor_; }

 private:
  class Handler;
  struct InFlight {
    Pool::Waiting request;  // kept whole: sent again after ESME_RTHROTTLED or a retryable error
    Clock::time_point sent;
    bool used = false;
  };

  asio::awaitable<void> run(std::shared_ptr<Connection> self);
  void send_now(Pool::Waiting request);
  // Towards an SMSC bound as 3.3: the request's TLV content rewritten the 3.3 way
  // (smpp/downgrade.hpp). False when it has none: then it is completed with the refusal.
  bool express_for_v33(Pool::Waiting& request);
  // Towards an upstream with message.max_length: a longer message cut into parts
  // (smpp/split.hpp) as the multipart section says. False when it cannot be: then it is
  // completed with the refusal.
  bool split_long(Pool::Waiting& request);
  // Completes a request smppd cannot send as it is, with `status` (`why` for the log).
  void refuse_unsendable(Pool::Waiting& request, uint32_t status, std::string_view why);
  // The concatenation reference of the next message smppd cuts (multipart.reference.mode).
  uint16_t next_reference();
  void on_response(uint64_t cookie, session::Outcome outcome, smpp::Pdu* response);
  void on_closed();
  // A response whose request timed out earlier (Result::late_response), if it is one.
  bool on_late_response(smpp::Pdu& response);

  std::shared_ptr<Pool> pool_;
  std::size_t slot_;
  std::size_t host_;
  std::string host_text_;
  asio::any_io_executor executor_;
  std::shared_ptr<const session::SessionSettings> settings_;
  std::shared_ptr<session::Session> session_;
  asio::steady_timer wake_;
  bool up_ = false;
  bool closed_ = false;
  bool stopping_ = false;
  bool reconnect_now_ = false;
  Duration grace_{0};
  uint32_t last_bind_status_ = 0;
  std::vector<InFlight> in_flight_;
  std::vector<uint64_t> free_;
  // Requests of this session that timed out, oldest first, kept another timeouts.response (at
  // most kMaxLate) so that a late answer still reaches their completion.
  struct Late {
    uint32_t seq;
    Clock::time_point until;
    Completion done;
  };
  static constexpr std::size_t kMaxLate = 1024;
  std::deque<Late> late_;
  uint16_t concat_reference_ = 0;  // for long messages smppd cuts (regenerate: per connection)
  // The health check waiting for its answer (one at a time): check() waits on probe_done_
  // until on_response sets the outcome.
  asio::steady_timer probe_done_;
  std::optional<session::Outcome> probe_outcome_;
  bool probing_ = false;
};

}  // namespace smppd::upstream
