#include "upstream/connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <random>

#include "core/log.hpp"
#include "core/log_aggregate.hpp"
#include "net/tls.hpp"
#include "smpp/downgrade.hpp"
#include "smpp/split.hpp"
#include "smpp/status.hpp"
#include "upstream/bind.hpp"
#include "upstream/health.hpp"

namespace smppd::upstream {

namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
using tcp = asio::ip::tcp;

session::SessionSettings connection_settings(const config::UpstreamConfig& c) {
  session::SessionSettings s;
  s.role = session::Role::esme;
  s.system_id = c.bind.system_id;
  s.versions = {c.bind.version};
  s.bind_timeout = c.timeouts.bind;
  s.response_timeout = c.timeouts.response;
  s.enquire_link_interval = c.enquire_link.interval;
  s.enquire_link_timeout = c.enquire_link.timeout;
  s.read_timeout = c.timeouts.read;
  s.write_timeout = c.timeouts.write;
  s.idle_timeout = Duration(0);
  s.window_size = c.window.size;
  s.keep_version_unannounced = c.bind.version_given;
  return s;
}

// The cookie of a health check's probe; the cookies of requests index in_flight_.
constexpr uint64_t kProbeCookie = UINT64_MAX;
// The session reports a probe's outcome within its timeout; this only bounds the wait if it
// never did.
constexpr Duration kProbeSlack{1000};

// Resolves `address` and connects `socket` to one of its endpoints.
asio::awaitable<boost::system::error_code> connect_to(tcp::socket& socket,
                                                      const config::HostPort& address) {
  tcp::resolver resolver(co_await asio::this_coro::executor);
  auto [rec, results] =
      co_await resolver.async_resolve(address.host, std::to_string(address.port), nothrow);
  if (rec) co_return rec;
  auto [cec, endpoint] = co_await asio::async_connect(socket, results, nothrow);
  co_return cec;
}

Duration jittered(Duration d) {
  thread_local std::minstd_rand rng{std::random_device{}()};
  // 50-100 % of the delay: reconnecting peers spread out instead of arriving together.
  std::uniform_int_distribution<int64_t> dist(d.count() / 2, std::max<int64_t>(d.count(), 1));
  return Duration(dist(rng));
}

}  // namespace

class Connection::Handler final : public session::SessionHandler {
 public:
  explicit Handler(std::shared_ptr<Connection> c) : c_(std::move(c)) {}
  void on_bind_response(session::Session& s, const smpp::Pdu& r) override {
    c_->last_bind_status_ = r.command_status;
    if (r.command_status != smpp::status::ESME_ROK) {
      log::warn("upstream {}: {}: bind refused: {} ({:#x})", c_->pool_->name(), c_->host_text_,
                smpp::status_name(r.command_status), r.command_status);
      c_->pool_->counters_.add("smppd_upstream_connects_total",
                               {{"upstream", c_->pool_->name()}, {"result", "bind_refused"}});
      return;
    }
    c_->pool_->counters_.add("smppd_upstream_connects_total",
                             {{"upstream", c_->pool_->name()}, {"result", "bound"}});
    if (s.peer_announced_version()) {
      log::info("upstream {}: {}: bound (SMPP {})", c_->pool_->name(), c_->host_text_,
                smpp::version_name(s.version()));
    } else if (c_->pool_->config().bind.version_given) {
      log::info(
          "upstream {}: {}: bound (SMPP {}: the SMSC announces no sc_interface_version; "
          "bind.version is used as configured)",
          c_->pool_->name(), c_->host_text_, smpp::version_name(s.version()));
    } else {
      log::warn(
          "upstream {}: {}: bound (SMPP 3.3: the SMSC announces no sc_interface_version, "
          "which means 3.3 without TLVs; message_payload, SAR and ports are rewritten "
          "into short_message and the UDH, other TLVs are not sent; set bind.version to "
          "use another version)",
          c_->pool_->name(), c_->host_text_);
    }
    c_->up_ = true;
    c_->pool_->connection_up(c_.get(), c_->slot_, s.settings().window_size);
  }
  void on_request(session::Session& s, smpp::Pdu& request) override {
    const auto id = request.command_id();
    if (id == smpp::CommandId::alert_notification) return;  // has no response
    const uint32_t status = c_->pool_->events_.on_delivery(
        *c_->pool_, request,
        DeliveryReply(s.weak_from_this(), s.executor(), id, request.sequence_number));
    if (status == PoolEvents::kAnswerLater) return;
    smpp::Pdu resp = smpp::make_response(id, request.sequence_number, status);
    s.respond(resp);
  }
  void on_response(session::Session&, uint64_t cookie, session::Outcome outcome,
                   smpp::Pdu* response) override {
    c_->on_response(cookie, outcome, response);
  }
  bool on_unmatched_response(session::Session&, smpp::Pdu& response) override {
    return c_->on_late_response(response);
  }
  void on_closed(session::Session&, std::string_view reason) override {
    if (c_->stopping_ || c_->reconnect_now_) {
      // Closed on purpose (the pool stops, shrinks, or recycles this connection).
      log::info("upstream {}: {}: connection closed: {}", c_->pool_->name(), c_->host_text_,
                reason);
    } else if (c_->up_) {
      log::warn("upstream {}: {}: connection closed: {}", c_->pool_->name(), c_->host_text_,
                reason);
      c_->pool_->counters_.add("smppd_upstream_disconnects_total", {{"upstream", c_->pool_->name()}});
    } else if (c_->last_bind_status_ == smpp::status::ESME_ROK) {
      const bool tls = reason.starts_with("TLS handshake failed");
      c_->pool_->counters_.add("smppd_upstream_connects_total",
                               {{"upstream", c_->pool_->name()},
                                {"result", tls ? "tls_failed" : "not_bound"}});
      if (tls) {
        c_->pool_->counters_.add("smppd_tls_handshake_failures_total",
                                 {{"side", "upstream"}, {"name", c_->pool_->name()}});
      }
      // Never bound, and no bind_resp said why (a refusal is logged above): a TLS handshake
      // that failed, a bind that timed out, an SMSC that hung up. Each attempt says so, like
      // a connect that fails; the attempts back off.
      log::warn("upstream {}: {}: not bound: {}", c_->pool_->name(), c_->host_text_, reason);
    }
    c_->on_closed();
  }

 private:
  std::shared_ptr<Connection> c_;
};

Connection::Connection(std::shared_ptr<Pool> pool, std::size_t slot, std::size_t host,
                       asio::any_io_executor executor)
    : pool_(std::move(pool)),
      slot_(slot),
      host_(host),
      executor_(std::move(executor)),
      settings_(
          std::make_shared<const session::SessionSettings>([&] {
            session::SessionSettings s = connection_settings(pool_->config());
            s.pdu_counters = &pool_->pdu_counters_;
            return s;
          }())),
      wake_(executor_, Clock::time_point::max()),
      probe_done_(executor_) {
  host_text_ = pool_->hosts_[host_].address.to_string();
}

void Connection::start() {
  asio::co_spawn(executor_, run(shared_from_this()), asio::detached);
}

void Connection::stop(Duration grace) {
  asio::dispatch(executor_, [self = shared_from_this(), grace] {
    self->stopping_ = true;
    self->grace_ = grace;
    if (self->session_) {
      self->session_->shutdown(grace, "upstream stopping");
    }
    self->wake_.cancel();
  });
}

void Connection::recycle(Duration grace) {
  asio::dispatch(executor_, [self = shared_from_this(), grace] {
    if (self->stopping_ || !self->session_) return;
    self->reconnect_now_ = true;
    self->session_->shutdown(grace, "recycled after max_lifetime");
  });
}

void Connection::send(Pool::Waiting request) {
  asio::dispatch(executor_, [self = shared_from_this(), r = std::move(request)]() mutable {
    self->send_now(std::move(r));
  });
}

void Connection::send_now(Pool::Waiting request) {
  if (!session_ || !up_ || closed_) {
    pool_->bounced(this, slot_, std::move(request), true);  // back to the queue: this one is down
    return;
  }
  if (session_->version() == smpp::Version::v33) {
    if (!express_for_v33(request)) return;
  } else if (pool_->config().message.max_length && !split_long(request)) {
    return;
  }
  uint64_t cookie;
  if (!free_.empty()) {
    cookie = free_.back();
    free_.pop_back();
  } else {
    cookie = in_flight_.size();
    in_flight_.emplace_back();
  }
  InFlight& f = in_flight_[cookie];
  f.request = std::move(request);
  f.sent = Clock::now();
  f.used = true;
  const auto sent = session_->send_request(f.request.pdu, cookie);
  if (sent != session::SendResult::sent) {
    f.used = false;
    free_.push_back(cookie);
    pool_->bounced(this, slot_, std::move(f.request), sent != session::SendResult::window_full);
  }
}

uint16_t Connection::next_reference() {
  if (pool_->multipart_.reference_mode == config::ReferenceMode::sequential) {
    // One sequence for the whole process: references rise across connections and upstreams.
    static std::atomic<uint16_t> shared{0};
    return static_cast<uint16_t>(shared.fetch_add(1, std::memory_order_relaxed) + 1);
  }
  // regenerate (and preserve, which has no reference to keep for a message smppd cuts itself):
  // a fresh one per message on this connection.
  return ++concat_reference_;
}

bool Connection::express_for_v33(Pool::Waiting& request) {
  smpp::Downgrade d = smpp::express_for_v33(request.pdu, next_reference());
  if (d.status == smpp::status::ESME_ROK && !d.more.empty()) {
    const config::MultipartConfig& mp = pool_->multipart_;
    if (!mp.segmentation_enabled || 1 + d.more.size() > mp.segmentation_max_parts) {
      refuse_unsendable(request, smpp::status::ESME_RINVMSGLEN,
                        mp.segmentation_enabled
                            ? "it takes more parts than multipart.segmentation.max_parts"
                            : "it is too long for one 3.3 short_message and "
                              "multipart.segmentation is off");
      return false;
    }
    pool_->counters_.add("smppd_messages_segmented_for_v33_total", {{"upstream", pool_->name()}});
    // Only the last part asks for the receipt. Before any parts it already had (none in
    // practice: a request sent as parts is parts that fit a short_message each).
    auto* first = request.pdu.as<smpp::SubmitSm>();
    if (first != nullptr && request.more_parts.empty()) smpp::receipt_on_last_part(*first, d.more);
    request.more_parts.insert(request.more_parts.begin(), std::make_move_iterator(d.more.begin()),
                              std::make_move_iterator(d.more.end()));
  }
  if (d.converted > 0 || d.became_submit) {
    pool_->counters_.add("smppd_tlvs_rewritten_for_v33_total", {{"upstream", pool_->name()}},
                         d.converted);
  }
  if (d.status == smpp::status::ESME_ROK) return true;
  // Its content has no 3.3 form: refused, never sent without it.
  refuse_unsendable(request, d.status, "its content has no SMPP 3.3 form (the SMSC takes no TLVs)");
  return false;
}

bool Connection::split_long(Pool::Waiting& request) {
  const config::MultipartConfig& mp = pool_->multipart_;
  smpp::SplitOptions options;
  options.method = mp.segmentation_method == config::SegmentationMethod::sar_tlv
                       ? smpp::ConcatMethod::sar
                       : smpp::ConcatMethod::udh8;
  options.max_parts = mp.segmentation_enabled ? mp.segmentation_max_parts : 1;
  options.max_length = *pool_->config().message.max_length;
  options.reference = next_reference();  // udh8 uses its low 8 bits
  smpp::Split s = smpp::split_long(request.pdu, options);
  if (s.status != smpp::status::ESME_ROK) {
    refuse_unsendable(request, s.status,
                      s.status == smpp::status::ESME_RINVMSGLEN
                          ? "it is longer than message.max_length and takes more parts than "
                            "multipart.segmentation allows"
                          : "it carries text in both short_message and message_payload");
    return false;
  }
  if (s.split) {
    pool_->counters_.add("smppd_messages_segmented_total", {{"upstream", pool_->name()}});
    request.more_parts = std::move(s.more);
  }
  return true;
}

void Connection::refuse_unsendable(Pool::Waiting& request, uint32_t status, std::string_view why) {
  static log::Aggregated refused(log::Level::warn, "messages the upstream cannot take");
  refused("upstream {}: {}: a {} refused with {}: {}", pool_->name(), host_text_,
          smpp::command_name(request.pdu.command_id()), smpp::status_name(status), why);
  pool_->counters_.add("smppd_messages_not_expressible_total",
                       {{"upstream", pool_->name()}, {"status", smpp::status_name(status)}});
  smpp::Pdu refusal = smpp::make_response(request.pdu.command_id(), 0, status);
  if (pool_->request_done(this, slot_, Result::response, request, status, 0, false)) {
    return;  // taken back under the retry policy
  }
  Completion done = std::move(request.done);
  if (done) done(Result::response, &refusal, host_text_);
}

asio::awaitable<std::optional<std::string>> Connection::check(std::shared_ptr<Connection> /*self*/,
                                                              config::HealthCheckType type,
                                                              Duration timeout) {
  // Nothing to check (nullopt) while the connection is not bound, is closing or unbinding
  // (recycled), or the previous check still waits for its own outcome.
  if (!session_ || !up_ || closed_ || probing_) co_return std::nullopt;
  smpp::Pdu probe = type == config::HealthCheckType::submit
                        ? submit_probe()
                        : smpp::make_pdu(0, smpp::EnquireLink{});
  probe_outcome_.reset();
  const auto sent = session_->send_probe(probe, kProbeCookie, timeout);
  if (sent != session::SendResult::sent) co_return std::nullopt;
  probing_ = true;
  probe_done_.expires_after(timeout + kProbeSlack);
  if (!probe_outcome_) co_await probe_done_.async_wait(nothrow);
  probing_ = false;
  if (!probe_outcome_ || *probe_outcome_ == session::Outcome::timeout) {
    co_return std::string("no response within the timeout");
  }
  if (*probe_outcome_ == session::Outcome::closed) co_return std::string("connection closed");
  co_return std::string();  // answered (even with a PDU we could not decode)
}

void Connection::on_response(uint64_t cookie, session::Outcome outcome, smpp::Pdu* response) {
  if (cookie == kProbeCookie) {
    probe_outcome_ = outcome;
    probe_done_.cancel();
    return;
  }
  if (cookie >= in_flight_.size() || !in_flight_[cookie].used) return;
  // Out of the slot before anything else runs: the pool may send the next request at once
  // (inline, on this executor) into the freed slot.
  InFlight f = std::move(in_flight_[cookie]);
  in_flight_[cookie].used = false;
  free_.push_back(cookie);
  const auto latency = Clock::now() - f.sent;
  const double latency_ms = std::chrono::duration<double, std::milli>(latency).count();
  if (outcome == session::Outcome::response) {
    pool_->counters_.observe(
        pool_->response_latency_,
        static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(latency).count()));
  }
  const uint32_t status =
      outcome == session::Outcome::response && response != nullptr ? response->command_status : 0;
  if (status == smpp::status::ESME_RTHROTTLED || status == smpp::status::ESME_RMSGQFUL) {
    // The SMSC did not take it: slow this connection down and send it again later.
    pool_->throttled(this, slot_, std::move(f.request), status);
    return;
  }
  if (status == smpp::status::ESME_ROK && outcome == session::Outcome::response &&
      response != nullptr && !f.request.more_parts.empty()) {
    // A part of a long message went out: the next one follows on this connection.
    f.request.part_answers.push_back(std::move(*response));
    f.request.pdu = smpp::make_pdu(0, std::move(f.request.more_parts.front()));
    f.request.more_parts.erase(f.request.more_parts.begin());
    send_now(std::move(f.request));
    return;
  }
  const Result result = outcome == session::Outcome::response ? Result::response : Result::timeout;
  const bool count_failure = outcome != session::Outcome::closed;  // a drop counts once
  if (pool_->request_done(this, slot_, result, f.request, status, latency_ms, count_failure)) {
    return;  // retried
  }
  Completion done = std::move(f.request.done);
  if (result == Result::response) {
    done(Result::response, response, host_text_);
  } else {
    // Timed out, or the connection closed after it was sent: the SMSC may have it.
    done(Result::timeout, nullptr, host_text_);
  }
  for (auto& answer : f.request.part_answers) done(Result::part, &answer, host_text_);
  if (result == Result::response) return;
  if (outcome == session::Outcome::timeout && done) {
    // Its answer may still come on this session: kept for it (see on_late_response).
    const auto now = Clock::now();
    while (!late_.empty() && (late_.size() >= kMaxLate || late_.front().until <= now)) {
      late_.pop_front();
    }
    late_.push_back(Late{f.request.pdu.sequence_number, now + pool_->config().timeouts.response,
                         std::move(done)});
  }
}

bool Connection::on_late_response(smpp::Pdu& response) {
  const auto now = Clock::now();
  while (!late_.empty() && late_.front().until <= now) late_.pop_front();
  for (auto it = late_.begin(); it != late_.end(); ++it) {
    if (it->seq != response.sequence_number) continue;
    Completion done = std::move(it->done);
    late_.erase(it);
    done(Result::late_response, &response, host_text_);
    return true;
  }
  return false;
}

void Connection::on_closed() {
  closed_ = true;
  late_.clear();  // their sequence numbers belonged to the session that closed
  wake_.cancel();
}

asio::awaitable<void> Connection::run(std::shared_ptr<Connection> self) {
  const config::UpstreamConfig& cfg = pool_->config();
  const auto& address = pool_->hosts_[host_].address;
  const Duration initial = std::chrono::milliseconds(500);
  const Duration max_backoff = std::max<Duration>(cfg.retry.max_delay, initial);
  Duration backoff = initial;
  asio::steady_timer timer(executor_);
  while (!stopping_) {
    tcp::socket socket(executor_);
    // The connect races its timeout (the Asio examples' awaitable race): whichever ends first
    // cancels the other.
    using namespace asio::experimental::awaitable_operators;
    timer.expires_after(cfg.timeouts.connect);
    auto outcome = co_await (connect_to(socket, address) || timer.async_wait(nothrow));
    const bool timed_out = outcome.index() == 1;
    boost::system::error_code ec =
        timed_out ? make_error_code(asio::error::timed_out) : std::get<0>(outcome);
    if (stopping_) break;
    if (ec) {
      log::warn("upstream {}: {}: cannot connect: {}", pool_->name(), host_text_,
                timed_out ? "timeout" : ec.message());
      pool_->counters_.add("smppd_upstream_connects_total",
                           {{"upstream", pool_->name()},
                            {"result", timed_out ? "connect_timeout" : "connect_failed"}});
    } else {
      socket.set_option(tcp::no_delay(true), ec);
      session::register_for_reads_only(socket);
      std::unique_ptr<session::Transport> transport;
      if (pool_->tls_) {
        transport = std::make_unique<session::Transport>(std::move(socket), *pool_->tls_);
        net::prepare_client_stream(transport->tls(), cfg.tls, address.host);
      } else {
        transport = std::make_unique<session::Transport>(std::move(socket));
      }
      closed_ = false;
      up_ = false;
      last_bind_status_ = 0;
      session_ = std::make_shared<session::Session>(std::move(*transport), settings_,
                                                    std::make_unique<Handler>(self));
      session_->start();
      smpp::Pdu bind = make_bind(cfg.bind);
      session_->bind(bind, cfg.bind.version);
      while (!closed_) co_await wake_.async_wait(nothrow);
      const bool was_up = up_;
      up_ = false;
      session_.reset();
      if (was_up) {
        pool_->connection_down(this, slot_);
        backoff = initial;
      }
      if (last_bind_status_ == smpp::status::ESME_RALYBND) {
        log::info("upstream {}: {}: the SMSC still holds a bind; retrying after a pause",
                  pool_->name(), host_text_);
      }
      // Requests still waiting here were failed by the session (Outcome::closed).
    }
    if (stopping_) break;
    if (reconnect_now_) {
      reconnect_now_ = false;
      continue;
    }
    wake_.expires_after(jittered(backoff));  // stop() cancels it
    co_await wake_.async_wait(nothrow);
    wake_.expires_at(Clock::time_point::max());
    backoff = std::min<Duration>(backoff * 2, max_backoff);
  }
}

}  // namespace smppd::upstream
