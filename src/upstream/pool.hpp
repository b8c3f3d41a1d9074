// An upstream: a pool of SMPP connections (ESME role) to the hosts of one SMSC, with load
// balancing, a rate limit, throttling back-off and reconnection. Thread safe: requests come
// from client sessions on any worker; each connection lives on one worker.
//
// A request is sent on a connection chosen by the Balancer; when none can take it (windows
// full, rate limit, throttled, every host down or unhealthy, suspended) it waits in a bounded
// queue, in order, and goes out as soon as one can. It is never dropped silently: a full queue
// or a wait longer than `window.timeout` completes it with Result::failed.
//
// With `health.enabled`, each host is checked every `health.interval` (see health.hpp); an
// unhealthy host's connections count as down for the balancer until it recovers.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "core/counters.hpp"
#include "core/inline_function.hpp"
#include "limits/token_bucket.hpp"
#include "session/session.hpp"
#include "upstream/balancer.hpp"
#include "upstream/health.hpp"
#include "upstream/sticky_table.hpp"

namespace smppd::upstream {

namespace asio = boost::asio;
using session::Clock;
using session::Duration;

enum class Result : uint8_t {
  response,  // the SMSC answered (any command_status)
  timeout,   // sent, no answer in time: the SMSC may have accepted it (never resent blindly)
  failed,    // never sent: queue full, waited too long, pool stopped
  // After `timeout`, the same completion once more: the SMSC's response came after all (within
  // another timeouts.response, on the same connection). The client was answered already.
  late_response,
  // A request sent as several parts (a long message segmented for a 3.3 SMSC, or by a transform
  // of its text): each part the
  // SMSC accepted other than the one the final call reports, right after that final call.
  part,
};

// Runs once, on the executor of the connection that answered (or of the pool for `failed`).
// Kept inline in the request (no allocation per message) when it fits: 224 bytes hold the
// gateway's completion (its origin with an executor, the ids, names and trace).
using Completion =
    InlineFunction<void(Result, smpp::Pdu* response, std::string_view host), 224>;

class Pool;

// The answer to an SMSC's deliver_sm / data_sm, given later (once its owner has stored it).
// Copyable; call it once, from any thread: it answers on the session's own executor (nothing
// when the session has closed meanwhile: the SMSC sends it again).
class DeliveryReply {
 public:
  DeliveryReply() = default;
  DeliveryReply(std::weak_ptr<session::Session> session, asio::any_io_executor executor,
                smpp::CommandId command, uint32_t sequence)
      : session_(std::move(session)),
        executor_(std::move(executor)),
        command_(command),
        sequence_(sequence) {}
  void operator()(uint32_t status) const;
  explicit operator bool() const { return static_cast<bool>(executor_); }
  const asio::any_io_executor& executor() const { return executor_; }

 private:
  std::weak_ptr<session::Session> session_;
  asio::any_io_executor executor_;
  smpp::CommandId command_ = smpp::CommandId::deliver_sm;
  uint32_t sequence_ = 0;
};

// What the pool hands to its owner. Called on a connection's executor.
class PoolEvents {
 public:
  virtual ~PoolEvents() = default;
  // on_delivery's answer when the owner answers later through the DeliveryReply.
  static constexpr uint32_t kAnswerLater = 0xFFFFFFFF;
  // A deliver_sm or data_sm from the SMSC (receipt or MO). Returns the command_status of its
  // response: 0 once taken in charge; an error makes the SMSC keep it and retry; kAnswerLater
  // when `later` will be called (until then the request counts against the session's window).
  virtual uint32_t on_delivery(Pool& pool, smpp::Pdu& pdu, const DeliveryReply& later) = 0;
};

class Connection;

// How long a connection pauses after the SMSC answers ESME_RTHROTTLED or ESME_RMSGQFUL: `first`,
// doubling with each refusal in a row up to `max`; a success ends it.
struct ThrottlePauses {
  Duration first{100};
  Duration max{5000};
};

class Pool : public std::enable_shared_from_this<Pool> {
 public:
  // `executors`: where connections may live (connection k on executors[k % n]).
  // `hosts_override`: for the built-in simulator, the address it listens on.
  Pool(const config::UpstreamConfig& config, std::vector<asio::any_io_executor> executors,
       PoolEvents& events, Counters& counters, std::vector<config::HostConfig> hosts_override = {},
       ThrottlePauses pauses = {});
  ~Pool();

  // How smppd cuts long messages for this upstream (the `multipart` section). Before start().
  void set_multipart(const config::MultipartConfig& multipart) { multipart_ = multipart; }

  void start();
  // Stops: connections finish their in-flight requests (up to `grace`), then unbind. Requests
  // still queued go to `successor` (a pool replacing this one on reload), in their order; with
  // none, they are answered ESME_RTHROTTLED (come back later).
  void stop(Duration grace, Pool* successor = nullptr);

  // `balance_key` feeds ip_hash; `sticky_key` (non-zero) keeps requests with the same key on
  // one connection while it is up (the parts of a long message).
  // `near` (optional): the caller's executor. Among the connections to the host the balancer
  // chose, one on that executor is preferred, so that the request and its response stay on
  // the caller's thread (no hand-off between threads).
  // `more_parts`: the request is the first part of a message sent as several (a text the
  // middleware re-segmented); the others follow it on the same connection, each once the one
  // before was accepted, and `done` is called as for a request segmented for a 3.3 SMSC: once
  // for the last answer (or the first refusal), then with Result::part for each other accepted.
  void submit(smpp::Pdu request, Completion done, uint64_t balance_key = 0, uint64_t sticky_key = 0,
              const asio::any_io_executor* near = nullptr,
              std::vector<smpp::SubmitSm> more_parts = {});

  // A healthy host with a connection up, not suspended, and not tripped by
  // `failover.threshold` consecutive failures (for `failover.recovery_time`). The gateway
  // sends to the failover upstream otherwise.
  bool healthy() const;
  // The health-check state of host `host` (an index into the upstream's hosts); always true
  // with health checks off.
  bool host_healthy(std::size_t host) const;

  void suspend();
  void resume();
  bool suspended() const;

  const std::string& name() const { return config_.name; }
  const config::UpstreamConfig& config() const { return config_; }
  // Connections bound right now.
  std::size_t connections_up() const;
  std::size_t queued() const;

  // For the operator (metrics, management API): the pool as it is now, under its lock.
  struct ConnectionView {
    std::size_t host = 0;  // index into hosts()
    bool up = false;       // bound (and its host healthy)
    bool paused = false;   // throttled by the SMSC
    bool recycling = false;
    uint32_t in_flight = 0;
    uint32_t window = 0;
    double up_seconds = 0;
  };
  struct View {
    bool healthy = false;
    bool suspended = false;
    bool tripped = false;  // failover.threshold failures in a row
    std::size_t queued = 0;
    std::vector<bool> hosts_healthy;
    std::vector<ConnectionView> connections;  // retired slots left out
  };
  View view() const;
  const std::vector<config::HostConfig>& hosts() const { return hosts_; }

 private:
  friend class Connection;
  struct Waiting {
    smpp::Pdu pdu;
    Completion done;
    Clock::time_point deadline;  // fails (or answers last_status) when still waiting then
    uint64_t key = 0;
    uint64_t sticky = 0;
    uint32_t attempt = 0;            // retries done under the retry policy
    uint32_t last_status = 0;        // the SMSC's last refusal, answered if the wait runs out
    Clock::time_point not_before{};  // a retry waits for its back-off
    asio::any_io_executor near;      // the caller's executor, if it gave one
    // A request sent as parts, one after the other on one connection: the parts still to send
    // (pdu is the one being sent), and the answers of those the SMSC accepted.
    std::vector<smpp::SubmitSm> more_parts;
    std::vector<smpp::Pdu> part_answers;
  };
  struct Slot {
    std::shared_ptr<Connection> connection;  // null once retired
    Candidate state;
    uint32_t window = 1;
    Clock::time_point paused_until{};
    Duration pause{0};
    Clock::time_point up_since{};
    Duration lifetime{
        0};  // pool.max_lifetime less up to 10 %: connections do not all recycle at once
    Clock::time_point last_used{};
    bool retired = false;    // closed for being idle beyond pool.min_connections
    bool recycling = false;  // past pool.max_lifetime: takes no new requests, then reconnects
  };

  // Called by connections (on their executors).
  // Each names its connection: a slot may have been given to a new one since.
  void connection_up(const Connection* who, std::size_t slot, uint32_t window);
  void connection_down(const Connection* who, std::size_t slot);
  // A response or timeout. Returns true when the pool took the request back to retry it
  // (a retryable status under the retry policy); the connection then does not complete it.
  // `count_failure`: a timeout counts towards failover; a request failed by its connection
  // closing does not (the drop is counted once, by connection_down).
  bool request_done(const Connection* who, std::size_t slot, Result result, Waiting& request,
                    uint32_t status, double latency_ms, bool count_failure);
  // Requests of a pool this one replaces, queued behind what waits here.
  void adopt(std::deque<Waiting> waiting, std::vector<Waiting> delayed);
  // ESME_RTHROTTLED / ESME_RMSGQFUL: pause the connection, queue the request again in front.
  void throttled(const Connection* who, std::size_t slot, Waiting retry, uint32_t status);
  // The connection could not send it (down, window full): queue it again in front.
  // `down`: the connection cannot send at all (closing, not bound), not merely a full window.
  void bounced(const Connection* who, std::size_t slot, Waiting retry, bool down);
  // With mutex_ held: the slot if it still belongs to `who`.
  Slot* slot_of_locked(const Connection* who, std::size_t slot);

  // With mutex_ held: the next slot for a request, taking a rate token. `sticky_busy` (when
  // given) is set when nothing was picked only because the request's sticky connection is
  // busy: requests behind it may still go.
  std::optional<std::size_t> pick_locked(Clock::time_point now, const Waiting& w,
                                         bool* sticky_busy = nullptr);
  // With mutex_ held: a new connection when every one of the best hosts is busy (up to
  // pool.max_connections per host). The caller starts it after unlocking.
  std::shared_ptr<Connection> maybe_grow_locked(Clock::time_point now);
  void note_failure_locked(Clock::time_point now);
  // With mutex_ held, after anything healthy() depends on changed (a connection up or down, a
  // host's health, suspend, stop, a trip): publishes it for healthy(), which takes no lock.
  void publish_health_locked();
  // Once a second: close connections idle beyond idle_timeout (above min_connections), and
  // recycle those older than max_lifetime.
  void housekeeping();
  Duration retry_delay(uint32_t attempt) const;
  void drain();
  // The queue's clock (drain_timer_ on executors_[0]) ticks every few milliseconds while
  // requests wait, and only for housekeeping while none does. With mutex_ held, after queueing
  // a request: true when the clock sleeps long and the caller must wake it (wake_clock(),
  // after unlocking).
  bool clock_must_wake_locked();
  void wake_clock();
  // drain() on executors_[0], soon; `wake`: wake the clock there too.
  void drain_soon(bool wake);
  void fail(Waiting& w, std::string_view why);
  // A request never sent because the pool stops: answered ESME_RTHROTTLED (or the SMSC's last
  // refusal), so that the client sends it again later rather than count it as failed.
  void fail_stopping(Waiting& w);

  // Checks `host` every health.interval until the pool stops, on `timer`'s executor.
  asio::awaitable<void> health_loop(std::shared_ptr<Pool> self, std::size_t host,
                                    asio::steady_timer& timer);
  // One check of `host`: empty when it passed, else why not.
  // The failure ("" when it passed); nullopt when there was nothing to check (an SMPP check
  // with no connection of the host bound).
  asio::awaitable<std::optional<std::string>> check_host(std::size_t host);
  void health_result(std::size_t host, std::string_view failure);

  config::UpstreamConfig config_;
  std::vector<config::HostConfig> hosts_;
  ThrottlePauses pauses_;
  std::vector<asio::any_io_executor> executors_;
  PoolEvents& events_;
  Counters& counters_;
  config::MultipartConfig multipart_;
  // smppd_message_latency_seconds{upstream,stage="response"}: from sending a request to its
  // response, in microseconds.
  HistogramId response_latency_;
  // Its connections' PDUs (smppd_pdus_total{side="upstream"}).
  session::PduCounters pdu_counters_;
  std::shared_ptr<asio::ssl::context> tls_;

  mutable std::mutex mutex_;
  std::vector<Slot> slots_;
  std::vector<Candidate> candidates_;  // scratch for the balancer
  std::vector<HostHealth> health_;     // per host
  Balancer balancer_;
  limits::TokenBucket rate_;
  std::deque<Waiting> waiting_;
  std::vector<Waiting> delayed_;  // retries waiting for their back-off
  StickyTable sticky_;
  uint32_t consecutive_failures_ = 0;
  Clock::time_point tripped_until_{};
  std::atomic<bool> serving_{false};  // not suspended or stopped, a connection up to a healthy host
  std::atomic<Clock::rep> tripped_until_ticks_{0};
  Clock::time_point last_growth_{};
  Clock::time_point last_housekeeping_{};
  // Requests that ran out of time in the queue (window.timeout without a connection able to
  // take them; the client gets ESME_RSYSERR or the SMSC's last refusal): said in the log at
  // most every kExpiryLogInterval, with how many since the last time.
  struct ExpiryReport {
    uint64_t expired;
    std::size_t bound, connections;
    bool suspended;
  };
  std::optional<ExpiryReport> expiry_report_locked(Clock::time_point now);
  void log_expiry(const ExpiryReport& report);
  Clock::time_point last_expiry_log_{};
  uint64_t expired_since_log_ = 0;
  std::size_t max_waiting_;
  bool suspended_ = false;
  bool stopped_ = false;
  asio::steady_timer drain_timer_;
  bool clock_idle_ = false;  // the clock sleeps until the next housekeeping
  // Per host, on the executor of the host's first connection; cancelled by stop().
  std::vector<std::unique_ptr<asio::steady_timer>> health_timers_;
};

}  // namespace smppd::upstream
