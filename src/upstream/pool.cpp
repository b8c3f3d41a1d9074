#include "upstream/pool.hpp"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <random>
#include <stdexcept>

#include "core/log.hpp"
#include "net/tls.hpp"
#include "smpp/status.hpp"
#include "upstream/connection.hpp"

namespace smppd::upstream {

namespace {
constexpr Duration kTick{5};  // how often waiting requests are looked at
constexpr Duration kHousekeepingInterval{1000};
constexpr Duration kGrowthInterval{200};  // at most one new connection this often
constexpr Duration kStickyFor{std::chrono::minutes(2)};
constexpr Duration kExpiryLogInterval{10000};  // see Pool::last_expiry_log_
constexpr std::size_t kMaxSkip = 64;  // waiting requests looked past for a busy sticky connection
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

// How long a request may wait in the queue (window.timeout; timeouts.response when not set).
Duration queue_wait(const config::UpstreamConfig& c) {
  return c.window.timeout.count() > 0 ? c.window.timeout : c.timeouts.response;
}

std::string_view check_name(config::HealthCheckType type) {
  switch (type) {
    case config::HealthCheckType::tcp:
      return "tcp";
    case config::HealthCheckType::submit:
      return "submit";
    case config::HealthCheckType::enquire_link:
      break;
  }
  return "enquire_link";
}
}  // namespace

namespace {
constexpr std::array<uint64_t, 14> kResponseBounds = {
    250,     500,     1'000,     2'500,     5'000,     10'000,     25'000,
    50'000, 100'000, 250'000, 500'000, 1'000'000, 5'000'000, 30'000'000};
constexpr Buckets kResponseLatency{kResponseBounds, 1e6};
}  // namespace

Pool::Pool(const config::UpstreamConfig& config, std::vector<asio::any_io_executor> executors,
           PoolEvents& events, Counters& counters, std::vector<config::HostConfig> hosts_override,
           ThrottlePauses pauses)
    : config_(config),
      hosts_(hosts_override.empty() ? config.hosts : std::move(hosts_override)),
      pauses_(pauses),
      executors_(std::move(executors)),
      events_(events),
      counters_(counters),
      pdu_counters_(counters, "upstream"),
      balancer_(config.load_balancing, hosts_),
      rate_(config.rate_limit.messages_per_second, config.rate_limit.burst),
      drain_timer_(executors_.at(0)) {
  health_.resize(hosts_.size());
  response_latency_ = counters_.histogram("smppd_message_latency_seconds",
                                          {{"upstream", config_.name}, {"stage", "response"}},
                                          kResponseLatency);
  if (config_.tls.enabled) {
    auto result = net::make_client_tls_context(config_.tls);
    if (!result.context) throw std::runtime_error("upstream " + config_.name + ": " + result.error);
    tls_ = std::move(result.context);
  }
  // Requests that may wait: a few windows' worth per connection, at least 10,000.
  max_waiting_ = std::max<std::size_t>(
      10000, std::size_t(config_.window.size) * config_.pool.max_connections * 4);
}

Pool::~Pool() = default;

void DeliveryReply::operator()(uint32_t status) const {
  asio::dispatch(executor_, [s = session_, command = command_, seq = sequence_, status] {
    if (auto session = s.lock()) {
      smpp::Pdu resp = smpp::make_response(command, seq, status);
      session->respond(resp);
    }
  });
}

void Pool::start() {
  // Each host gets pool.min_connections connections (at least one): backups are bound and
  // ready when the primaries go down. More are opened under load (maybe_grow_locked).
  const std::size_t per_host = std::max<uint32_t>(1, config_.pool.min_connections);
  std::unique_lock lock(mutex_);
  for (std::size_t h = 0; h < hosts_.size(); ++h) {
    for (std::size_t k = 0; k < per_host; ++k) {
      const std::size_t index = slots_.size();
      Slot slot;
      slot.state.host = h;
      slot.connection = std::make_shared<Connection>(shared_from_this(), index, h,
                                                     executors_[index % executors_.size()]);
      slots_.push_back(std::move(slot));
    }
  }
  slots_.reserve(hosts_.size() * std::max<uint32_t>(1, config_.pool.max_connections));
  candidates_.resize(slots_.size());
  std::vector<std::shared_ptr<Connection>> connections;
  for (auto& s : slots_) connections.push_back(s.connection);
  lock.unlock();
  for (auto& c : connections) c->start();
  if (config_.health.enabled) {
    for (std::size_t h = 0; h < hosts_.size(); ++h) {
      // On the executor of the host's first connection (slot h * per_host).
      const auto& executor = executors_[(h * per_host) % executors_.size()];
      auto& timer = *health_timers_.emplace_back(std::make_unique<asio::steady_timer>(executor));
      asio::co_spawn(executor, health_loop(shared_from_this(), h, timer), asio::detached);
    }
  }
  // The queue's clock: deadlines, retries, the rate limit and throttling pauses.
  asio::co_spawn(
      executors_[0],
      [self = shared_from_this()]() -> asio::awaitable<void> {
        while (true) {
          Duration next = kTick;
          {
            std::lock_guard guard(self->mutex_);
            const bool idle = self->waiting_.empty() && self->delayed_.empty();
            if (self->stopped_ && idle) break;
            if (idle) {
              // Nothing waits: sleep until the next housekeeping (a request queued meanwhile
              // wakes the clock), rather than waking the thread every tick for nothing.
              self->clock_idle_ = true;
              const auto due = self->last_housekeeping_ + kHousekeepingInterval - Clock::now();
              next = std::max(kTick, std::chrono::ceil<Duration>(due));
            }
          }
          self->drain_timer_.expires_after(next);
          co_await self->drain_timer_.async_wait(nothrow);
          {
            std::lock_guard guard(self->mutex_);
            self->clock_idle_ = false;
          }
          self->drain();
          self->housekeeping();
        }
      },
      asio::detached);
}

void Pool::stop(Duration grace, Pool* successor) {
  std::vector<std::shared_ptr<Connection>> connections;
  std::deque<Waiting> left;
  std::vector<Waiting> delayed;
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    publish_health_locked();
    // The pool lets go of its connections (each holds the pool until its loop ends), so the
    // two do not keep each other alive.
    for (auto& s : slots_) {
      if (s.connection) connections.push_back(std::move(s.connection));
    }
    left.swap(waiting_);
    delayed.swap(delayed_);
  }
  wake_clock();  // it ends now, rather than after its sleep
  if (successor != nullptr) {
    successor->adopt(std::move(left), std::move(delayed));
    left.clear();
    delayed.clear();
  }
  // Never sent: the client is told to come back later (ESME_RTHROTTLED), not that it failed.
  for (auto& w : left) fail_stopping(w);
  for (auto& w : delayed) fail_stopping(w);
  for (auto& c : connections) c->stop(grace);
  // A health loop waiting for its next check ends now; one in a check ends after it (it sees
  // stopped_ before waiting again).
  for (auto& timer : health_timers_) {
    asio::post(timer->get_executor(),
               [self = shared_from_this(), t = timer.get()] { t->cancel(); });
  }
}

void Pool::adopt(std::deque<Waiting> waiting, std::vector<Waiting> delayed) {
  if (waiting.empty() && delayed.empty()) return;
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    for (auto& w : waiting) waiting_.push_back(std::move(w));
    for (auto& w : delayed) delayed_.push_back(std::move(w));
    wake = clock_must_wake_locked();
  }
  if (wake) wake_clock();
  drain_soon(false);
}

void Pool::suspend() {
  std::lock_guard lock(mutex_);
  suspended_ = true;
  publish_health_locked();
  log::info("upstream {}: suspended", config_.name);
}

void Pool::resume() {
  {
    std::lock_guard lock(mutex_);
    suspended_ = false;
    publish_health_locked();
    log::info("upstream {}: resumed", config_.name);
  }
  drain();
}

bool Pool::suspended() const {
  std::lock_guard lock(mutex_);
  return suspended_;
}

bool Pool::healthy() const {
  // Without the lock (a message takes the pool's mutex once, in submit): what it reads is
  // published by publish_health_locked whenever it changes.
  if (!serving_.load(std::memory_order_acquire)) return false;
  return Clock::now().time_since_epoch().count() >=
         tripped_until_ticks_.load(std::memory_order_relaxed);
}

void Pool::publish_health_locked() {
  bool serving = false;
  if (!suspended_ && !stopped_) {
    for (const auto& s : slots_) {
      if (s.state.up && health_[s.state.host].healthy()) {
        serving = true;
        break;
      }
    }
  }
  tripped_until_ticks_.store(tripped_until_.time_since_epoch().count(), std::memory_order_relaxed);
  serving_.store(serving, std::memory_order_release);
}

bool Pool::host_healthy(std::size_t host) const {
  std::lock_guard lock(mutex_);
  return host < health_.size() && health_[host].healthy();
}

std::size_t Pool::connections_up() const {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (const auto& s : slots_) n += s.state.up ? 1 : 0;
  return n;
}

Pool::View Pool::view() const {
  View v;
  v.healthy = healthy();
  std::lock_guard lock(mutex_);
  const auto now = Clock::now();
  v.suspended = suspended_;
  v.tripped = now < tripped_until_;
  v.queued = waiting_.size() + delayed_.size();
  for (const auto& h : health_) v.hosts_healthy.push_back(h.healthy());
  for (const auto& s : slots_) {
    if (s.retired || !s.connection) continue;
    ConnectionView c;
    c.host = s.state.host;
    c.up = s.state.up;
    c.paused = now < s.paused_until;
    c.recycling = s.recycling;
    c.in_flight = s.state.in_flight;
    c.window = s.window;
    if (s.state.up) c.up_seconds = std::chrono::duration<double>(now - s.up_since).count();
    v.connections.push_back(c);
  }
  return v;
}

std::size_t Pool::queued() const {
  std::lock_guard lock(mutex_);
  return waiting_.size() + delayed_.size();
}

void Pool::fail_stopping(Waiting& w) {
  // Some parts of it went out already: not a clean "come back later".
  if (w.last_status == 0 && w.part_answers.empty()) w.last_status = smpp::status::ESME_RTHROTTLED;
  fail(w, "upstream stopping");
}

void Pool::fail(Waiting& w, std::string_view why) {
  counters_.add("smppd_upstream_failed_total", {{"upstream", config_.name}, {"reason", why}});
  if (!w.done) return;
  if (w.last_status != 0) {
    // It waited because the SMSC kept refusing it (or the queue was full): that refusal is the
    // honest answer.
    smpp::Pdu refusal = smpp::make_response(w.pdu.command_id(), 0, w.last_status);
    w.done(Result::response, &refusal, {});
  } else {
    w.done(Result::failed, nullptr, {});
  }
  for (auto& answer : w.part_answers) w.done(Result::part, &answer, {});
}

std::optional<std::size_t> Pool::pick_locked(Clock::time_point now, const Waiting& w,
                                             bool* sticky_busy) {
  if (sticky_busy != nullptr) *sticky_busy = false;
  if (suspended_ || stopped_) return std::nullopt;
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    Slot& s = slots_[i];
    // An unhealthy host counts as down: its backups take over as if it were.
    const bool up = s.state.up && health_[s.state.host].healthy();
    s.state.available = up && !s.recycling && now >= s.paused_until && s.state.in_flight < s.window;
    candidates_[i] = s.state;
    candidates_[i].up = up;
  }
  std::optional<std::size_t> chosen;
  if (w.sticky != 0) {
    const auto slot = sticky_.find(w.sticky, now);
    if (slot && *slot < slots_.size() && candidates_[*slot].up) {
      // Same connection as the other parts, or wait for it.
      if (!candidates_[*slot].available) {
        if (sticky_busy != nullptr) *sticky_busy = true;
        return std::nullopt;
      }
      chosen = *slot;
    }
  }
  if (!chosen) {
    // Only cost_based prices the destination; the others need not look at the message.
    std::string_view destination;
    if (config_.load_balancing == config::LoadBalancing::cost_based) {
      if (const auto* sm = w.pdu.as<smpp::SubmitSm>()) destination = sm->destination_addr.view();
      if (const auto* ds = w.pdu.as<smpp::DataSm>()) destination = ds->destination_addr.view();
      if (const auto* multi = w.pdu.as<smpp::SubmitMulti>();
          multi && !multi->destinations.empty()) {
        destination = multi->destinations.front().address.view();
      }
    }
    chosen = balancer_.pick(candidates_, w.key, destination);
    if (chosen && w.near && slots_[*chosen].connection) {
      // Same host, but the first free connection on the caller's thread: no hand-off between
      // threads, and requests that arrive together leave together in one write.
      const std::size_t host = slots_[*chosen].state.host;
      for (std::size_t i = 0; i < slots_.size(); ++i) {
        if (candidates_[i].available && slots_[i].state.host == host && slots_[i].connection &&
            slots_[i].connection->executor() == w.near) {
          chosen = i;
          break;
        }
      }
    }
  }
  if (!chosen) return std::nullopt;
  if (!rate_.try_take(now)) return std::nullopt;
  ++slots_[*chosen].state.in_flight;
  slots_[*chosen].last_used = now;
  if (w.sticky != 0) sticky_.remember(w.sticky, *chosen, now + kStickyFor, now);
  return chosen;
}

std::shared_ptr<Connection> Pool::maybe_grow_locked(Clock::time_point now) {
  if (stopped_ || now - last_growth_ < kGrowthInterval) return nullptr;
  // Grow only when every live connection of the best priority is full and none is on its way.
  // Unhealthy hosts take no traffic: they neither grow nor hold the others back.
  std::vector<std::size_t> per_host(hosts_.size(), 0);
  uint32_t best = UINT32_MAX;
  for (const auto& s : slots_) {
    if (s.retired || !health_[s.state.host].healthy()) continue;
    ++per_host[s.state.host];
    if (!s.state.up) return nullptr;  // one is connecting (or down): wait for it
    best = std::min(best, hosts_[s.state.host].priority);
    if (s.state.in_flight < s.window && !s.recycling) return nullptr;
  }
  std::optional<std::size_t> host;
  for (std::size_t h = 0; h < hosts_.size(); ++h) {
    if (hosts_[h].priority != best || per_host[h] >= config_.pool.max_connections ||
        !health_[h].healthy()) {
      continue;
    }
    if (!host || per_host[h] < per_host[*host]) host = h;
  }
  if (!host) return nullptr;
  last_growth_ = now;
  // A retired slot of that host is reused; otherwise a new one.
  std::size_t index = slots_.size();
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].retired && slots_[i].state.host == *host) {
      index = i;
      break;
    }
  }
  if (index == slots_.size()) {
    slots_.emplace_back();
    candidates_.resize(slots_.size());
  }
  Slot& slot = slots_[index];
  slot = Slot{};
  slot.state.host = *host;
  slot.last_used = now;
  slot.connection = std::make_shared<Connection>(shared_from_this(), index, *host,
                                                 executors_[index % executors_.size()]);
  log::info("upstream {}: opening another connection to {} (every window is full)", config_.name,
            slot.connection->host_text());
  return slot.connection;
}

std::optional<Pool::ExpiryReport> Pool::expiry_report_locked(Clock::time_point now) {
  if (expired_since_log_ == 0 || now - last_expiry_log_ < kExpiryLogInterval) return std::nullopt;
  ExpiryReport report{expired_since_log_, 0, slots_.size(), suspended_};
  for (const auto& slot : slots_) report.bound += slot.state.up ? 1 : 0;
  expired_since_log_ = 0;
  last_expiry_log_ = now;
  return report;
}

void Pool::log_expiry(const ExpiryReport& r) {
  log::warn(
      "upstream {}: {} request(s) ran out of time ({}, {} ms) waiting in the queue for a "
      "connection able to take them; {} of {} connections bound{}",
      config_.name, r.expired,
      config_.window.timeout.count() > 0 ? "window.timeout" : "timeouts.response",
      queue_wait(config_).count(), r.bound, r.connections,
      r.suspended ? ", the upstream is suspended" : "");
}

void Pool::housekeeping() {
  std::vector<std::shared_ptr<Connection>> to_stop, to_recycle;
  std::optional<ExpiryReport> expiry_report;
  {
    std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    if (stopped_ || now - last_housekeeping_ < kHousekeepingInterval) return;
    last_housekeeping_ = now;
    // Expiries not yet said (the last ones of a burst) are said once their interval is over.
    expiry_report = expiry_report_locked(now);
    std::vector<std::size_t> live(hosts_.size(), 0);
    for (const auto& s : slots_) live[s.state.host] += s.retired ? 0 : 1;
    const std::size_t keep = std::max<uint32_t>(1, config_.pool.min_connections);
    for (auto& s : slots_) {
      if (s.retired || !s.connection) continue;
      if (s.state.up && s.state.in_flight == 0 && live[s.state.host] > keep &&
          config_.pool.idle_timeout.count() > 0 && now - s.last_used >= config_.pool.idle_timeout) {
        s.retired = true;
        s.state.up = false;
        publish_health_locked();
        --live[s.state.host];
        to_stop.push_back(std::move(s.connection));
        continue;
      }
      if (s.state.up && !s.recycling && s.lifetime.count() > 0 && now - s.up_since >= s.lifetime) {
        s.recycling = true;
        to_recycle.push_back(s.connection);
      }
    }
  }
  if (expiry_report) log_expiry(*expiry_report);
  for (auto& c : to_stop) {
    log::info("upstream {}: closing an idle connection to {}", config_.name, c->host_text());
    c->stop(config_.timeouts.response);
  }
  for (auto& c : to_recycle) {
    log::info("upstream {}: recycling the connection to {} (max_lifetime)", config_.name,
              c->host_text());
    c->recycle(config_.timeouts.response);
  }
}

void Pool::submit(smpp::Pdu request, Completion done, uint64_t key, uint64_t sticky,
                  const asio::any_io_executor* near, std::vector<smpp::SubmitSm> more_parts) {
  const auto now = Clock::now();
  Waiting w;
  w.pdu = std::move(request);
  w.more_parts = std::move(more_parts);
  w.done = std::move(done);
  w.deadline = now + queue_wait(config_);
  w.key = key;
  w.sticky = sticky;
  if (near != nullptr) w.near = *near;
  std::unique_lock lock(mutex_);
  if (stopped_) {
    lock.unlock();
    fail_stopping(w);
    return;
  }
  if (waiting_.empty()) {
    if (auto slot = pick_locked(now, w)) {
      auto connection = slots_[*slot].connection;
      lock.unlock();
      connection->send(std::move(w));
      return;
    }
  }
  if (waiting_.size() >= max_waiting_) {
    lock.unlock();
    w.last_status = smpp::status::ESME_RMSGQFUL;  // the client is told to come back later
    fail(w, "queue_full");
    return;
  }
  waiting_.push_back(std::move(w));
  auto grown = maybe_grow_locked(now);
  const bool wake = clock_must_wake_locked();
  lock.unlock();
  if (wake) wake_clock();
  if (grown) grown->start();
}

bool Pool::clock_must_wake_locked() {
  if (!clock_idle_) return false;
  clock_idle_ = false;
  return true;
}

void Pool::wake_clock() {
  // The timer is used on its own thread only.
  asio::post(executors_[0], [self = shared_from_this()] { self->drain_timer_.cancel(); });
}

void Pool::drain() {
  std::vector<Waiting> expired;
  std::vector<uint64_t> skipped_keys;
  std::shared_ptr<Connection> grown;
  std::optional<ExpiryReport> expiry_report;
  while (true) {
    std::unique_lock lock(mutex_);
    const auto now = Clock::now();
    // Retries whose back-off is over go first in line.
    for (auto it = delayed_.begin(); it != delayed_.end();) {
      if (it->not_before <= now) {
        waiting_.push_front(std::move(*it));
        it = delayed_.erase(it);
      } else {
        ++it;
      }
    }
    while (!waiting_.empty() && waiting_.front().deadline <= now) {
      expired.push_back(std::move(waiting_.front()));
      waiting_.pop_front();
      ++expired_since_log_;
    }
    if (!expiry_report) expiry_report = expiry_report_locked(now);
    if (waiting_.empty()) break;
    // The first request that can go now. One waiting for its sticky connection (a part of a
    // long message whose connection is busy) does not hold up those behind it, except the
    // other parts with the same key, which keep their order. At most kMaxSkip are looked
    // past: behind 64 parked parts, the rest waits (each look is a pick under the lock).
    std::optional<std::size_t> slot;
    std::size_t at = 0;
    skipped_keys.clear();
    for (; at < waiting_.size() && at < kMaxSkip; ++at) {
      const Waiting& w = waiting_[at];
      if (w.sticky != 0 &&
          std::find(skipped_keys.begin(), skipped_keys.end(), w.sticky) != skipped_keys.end())
        continue;
      bool sticky_busy = false;
      slot = pick_locked(now, w, &sticky_busy);
      if (slot || !sticky_busy) break;
      skipped_keys.push_back(w.sticky);
    }
    if (!slot) {
      if (!grown) grown = maybe_grow_locked(now);
      break;
    }
    Waiting w = std::move(waiting_[at]);
    waiting_.erase(waiting_.begin() + static_cast<std::ptrdiff_t>(at));
    auto connection = slots_[*slot].connection;
    lock.unlock();
    connection->send(std::move(w));
  }
  if (grown) grown->start();
  if (expiry_report) log_expiry(*expiry_report);
  for (auto& w : expired) fail(w, "no_connection_in_time");
}

void Pool::connection_up(const Connection* who, std::size_t slot, uint32_t window) {
  {
    std::lock_guard lock(mutex_);
    Slot* found = slot_of_locked(who, slot);
    if (found == nullptr) return;
    Slot& s = *found;
    s.state.up = true;
    s.state.in_flight = 0;
    publish_health_locked();
    s.window = std::max<uint32_t>(1, window);
    s.pause = Duration(0);
    s.paused_until = {};
    s.up_since = s.last_used = Clock::now();
    s.recycling = false;
    s.lifetime = config_.pool.max_lifetime;
    if (s.lifetime.count() > 0) {
      thread_local std::minstd_rand rng{std::random_device{}()};
      std::uniform_int_distribution<int64_t> cut(0, s.lifetime.count() / 10);
      s.lifetime -= Duration(cut(rng));
    }
  }
  drain();
}

void Pool::connection_down(const Connection* who, std::size_t slot) {
  std::lock_guard lock(mutex_);
  Slot* found = slot_of_locked(who, slot);
  if (found == nullptr) return;
  Slot& s = *found;
  s.state.up = false;
  s.state.in_flight = 0;
  publish_health_locked();
  if (!s.retired && !s.recycling && !stopped_) note_failure_locked(Clock::now());
}

void Pool::note_failure_locked(Clock::time_point now) {
  ++consecutive_failures_;
  if (config_.failover.enabled && consecutive_failures_ >= config_.failover.threshold &&
      now >= tripped_until_) {
    tripped_until_ = now + config_.failover.recovery_time;
    publish_health_locked();
    log::warn(
        "upstream {}: {} consecutive failures: traffic goes to its failover for {} s", config_.name,
        consecutive_failures_,
        std::chrono::duration_cast<std::chrono::seconds>(config_.failover.recovery_time).count());
    consecutive_failures_ = 0;
  }
}

Duration Pool::retry_delay(uint32_t attempt) const {
  const auto& r = config_.retry;
  double ms = static_cast<double>(r.delay.count());
  switch (r.backoff) {
    case config::Backoff::fixed:
      break;
    case config::Backoff::linear:
      ms *= attempt + 1;
      break;
    case config::Backoff::exponential:
      ms *= std::pow(r.backoff_factor, attempt);
      break;
  }
  return std::min(Duration(static_cast<int64_t>(ms)), r.max_delay);
}

bool Pool::request_done(const Connection* who, std::size_t slot, Result result, Waiting& request,
                        uint32_t status, double latency_ms, bool count_failure) {
  bool retry = false;
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    if (Slot* s = slot_of_locked(who, slot)) {
      if (s->state.in_flight > 0) --s->state.in_flight;
      s->pause = Duration(0);
      balancer_.observe_latency(s->state.host, latency_ms);
    }
    if (result == Result::response) {
      consecutive_failures_ = 0;
      const auto& r = config_.retry;
      // A refusal the policy calls retryable is sent again after its back-off. A timeout is
      // never retried here: the SMSC may have accepted the message.
      if (status != smpp::status::ESME_ROK && r.enabled && !stopped_ &&
          request.attempt + 1 < r.max_attempts &&
          std::find(r.retryable_errors.begin(), r.retryable_errors.end(), status) !=
              r.retryable_errors.end()) {
        ++request.attempt;
        counters_.add("smppd_upstream_retries_total", {{"upstream", config_.name}});
        request.last_status = status;
        request.not_before = now + retry_delay(request.attempt - 1);
        request.deadline = std::max(request.deadline, request.not_before + queue_wait(config_));
        delayed_.push_back(std::move(request));
        retry = true;
        wake = clock_must_wake_locked();  // it sends the retry once its back-off is over
      }
    } else if (count_failure) {
      note_failure_locked(now);
    }
    if (!retry && waiting_.empty()) return false;
  }
  if (wake) wake_clock();
  drain();
  return retry;
}

void Pool::throttled(const Connection* who, std::size_t slot, Waiting retry, uint32_t status) {
  bool stopped = false;
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    if (Slot* s = slot_of_locked(who, slot)) {
      if (s->state.in_flight > 0) --s->state.in_flight;
      if (s->state.up) {
        s->pause = s->pause.count() == 0 ? pauses_.first : std::min(s->pause * 2, pauses_.max);
        s->paused_until = Clock::now() + s->pause;
      }
    }
    // First in line again, with its original deadline: if the SMSC keeps refusing it until
    // then, the client gets the SMSC's status.
    retry.last_status = status;
    if (!stopped_) {
      waiting_.push_front(std::move(retry));
      wake = clock_must_wake_locked();  // it goes once the pause is over
    } else {
      stopped = true;
    }
  }
  counters_.add("smppd_upstream_throttled_total", {{"upstream", config_.name}});
  if (stopped) {
    fail_stopping(retry);
    return;
  }
  drain_soon(wake);
}

void Pool::drain_soon(bool wake) {
  asio::post(executors_[0], [self = shared_from_this(), wake] {
    if (wake) self->drain_timer_.cancel();
    self->drain();
  });
}

asio::awaitable<void> Pool::health_loop(std::shared_ptr<Pool> /*self*/, std::size_t host,
                                        asio::steady_timer& timer) {
  while (true) {
    {
      std::lock_guard lock(mutex_);
      if (stopped_) break;
    }
    timer.expires_after(config_.health.interval);
    co_await timer.async_wait(nothrow);
    {
      std::lock_guard lock(mutex_);
      if (stopped_) break;
    }
    const std::optional<std::string> failure = co_await check_host(host);
    if (failure) health_result(host, *failure);
  }
}

asio::awaitable<std::optional<std::string>> Pool::check_host(std::size_t host) {
  const config::HealthConfig& health = config_.health;
  if (health.type == config::HealthCheckType::tcp) {
    co_return co_await tcp_check(hosts_[host].address, health.timeout);
  }
  // A bound connection of the host: one not being recycled (it is unbinding) if there is one,
  // and among those one on this executor (no hand-off).
  const auto here = co_await asio::this_coro::executor;
  std::shared_ptr<Connection> connection;
  int best = -1;
  {
    std::lock_guard lock(mutex_);
    for (const auto& s : slots_) {
      if (s.state.host != host || !s.state.up || !s.connection) continue;
      const int rank = (s.recycling ? 0 : 2) + (s.connection->executor() == here ? 1 : 0);
      if (rank > best) {
        best = rank;
        connection = s.connection;
      }
    }
  }
  if (!connection) co_return std::nullopt;  // down: nothing to check
  co_return co_await asio::co_spawn(connection->executor(),
                                    connection->check(connection, health.type, health.timeout),
                                    asio::use_awaitable);
}

void Pool::health_result(std::size_t host, std::string_view failure) {
  const bool ok = failure.empty();
  const std::string host_text = hosts_[host].address.to_string();
  counters_.add(
      "smppd_upstream_health_checks_total",
      {{"upstream", config_.name}, {"host", host_text}, {"result", ok ? "ok" : "failed"}});
  HostHealth::Change change;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    change = health_[host].record(ok, config_.health);
    if (change != HostHealth::Change::none) publish_health_locked();
    // Counted with the change, so that whoever sees the new state sees it counted.
    if (change != HostHealth::Change::none) {
      const bool healthy = change == HostHealth::Change::became_healthy;
      counters_.add("smppd_upstream_health_changes_total",
                    {{"upstream", config_.name},
                     {"host", host_text},
                     {"state", healthy ? "healthy" : "unhealthy"}});
    }
  }
  const auto type = check_name(config_.health.type);
  if (!ok) {
    log::debug("upstream {}: {}: {} check failed: {}", config_.name, host_text, type, failure);
  }
  switch (change) {
    case HostHealth::Change::none:
      return;
    case HostHealth::Change::became_unhealthy:
      log::warn(
          "upstream {}: {} is unhealthy after {} failed {} checks (last: {}): no traffic "
          "until it recovers",
          config_.name, host_text, config_.health.threshold, type, failure);
      return;
    case HostHealth::Change::became_healthy:
      log::info("upstream {}: {} is healthy again after {} passed {} checks", config_.name,
                host_text, config_.health.recovery_threshold, type);
      drain();  // what waited for it goes now
      return;
  }
}

Pool::Slot* Pool::slot_of_locked(const Connection* who, std::size_t slot) {
  if (slot >= slots_.size()) return nullptr;
  Slot& s = slots_[slot];
  // A retired slot has no connection; a reused one has another. Stopped pools keep counting.
  if (s.connection.get() != who && !(stopped_ && s.connection == nullptr)) return nullptr;
  return &s;
}

void Pool::bounced(const Connection* who, std::size_t slot, Waiting retry, bool down) {
  bool stopped;
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    if (Slot* s = slot_of_locked(who, slot)) {
      if (s->state.in_flight > 0) --s->state.in_flight;
      // The connection is closing or not bound: it takes nothing more until it is up again
      // (connection_up), so the queue does not bounce off it again and again.
      if (down) {
        s->state.up = false;
        publish_health_locked();
      }
    }
    stopped = stopped_;
    if (!stopped) {
      waiting_.push_front(std::move(retry));
      wake = clock_must_wake_locked();
    }
  }
  if (stopped) {
    fail_stopping(retry);
    return;
  }
  // Not inline: this runs inside a connection's send, and draining may send on it again.
  drain_soon(wake);
}

}  // namespace smppd::upstream
