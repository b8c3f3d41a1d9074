#include "upstream/pool.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <stdexcept>

#include "core/log.hpp"
#include "net/tls.hpp"
#include "upstream/connection.hpp"

namespace smppd::upstream {

namespace {
constexpr Duration kTick{5};          // the queue is looked at this often when it waits
constexpr Duration kFirstPause{100};  // after ESME_RTHROTTLED / ESME_RMSGQFUL
constexpr Duration kMaxPause{5000};
}  // namespace

Pool::Pool(const config::UpstreamConfig& config, std::vector<asio::any_io_executor> executors,
           PoolEvents& events, Counters& counters, std::vector<config::HostConfig> hosts_override)
    : config_(config),
      hosts_(hosts_override.empty() ? config.hosts : std::move(hosts_override)),
      executors_(std::move(executors)),
      events_(events),
      counters_(counters),
      balancer_(config.load_balancing, hosts_),
      rate_(config.rate_limit.messages_per_second, config.rate_limit.burst),
      drain_timer_(executors_.at(0)) {
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

void Pool::start() {
  // Each host gets pool.min_connections connections (at least one): backups are bound and
  // ready when the primaries go down.
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
  candidates_.resize(slots_.size());
  std::vector<std::shared_ptr<Connection>> connections;
  for (auto& s : slots_) connections.push_back(s.connection);
  lock.unlock();
  for (auto& c : connections) c->start();
  // The queue's clock: deadlines, the rate limit and throttling pauses.
  asio::co_spawn(
      executors_[0],
      [self = shared_from_this()]() -> asio::awaitable<void> {
        while (true) {
          self->drain_timer_.expires_after(kTick);
          co_await self->drain_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
          {
            std::lock_guard guard(self->mutex_);
            if (self->stopped_ && self->waiting_.empty()) break;
          }
          self->drain();
        }
      },
      asio::detached);
}

void Pool::stop(Duration grace) {
  std::vector<std::shared_ptr<Connection>> connections;
  std::deque<Waiting> left;
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    for (auto& s : slots_) connections.push_back(s.connection);
    left.swap(waiting_);
  }
  for (auto& w : left) fail(w, "upstream stopping");
  for (auto& c : connections) c->stop(grace);
}

void Pool::suspend() {
  std::lock_guard lock(mutex_);
  suspended_ = true;
}

void Pool::resume() {
  {
    std::lock_guard lock(mutex_);
    suspended_ = false;
  }
  drain();
}

bool Pool::suspended() const {
  std::lock_guard lock(mutex_);
  return suspended_;
}

std::size_t Pool::connections_up() const {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (const auto& s : slots_) n += s.state.up ? 1 : 0;
  return n;
}

std::size_t Pool::queued() const {
  std::lock_guard lock(mutex_);
  return waiting_.size();
}

void Pool::fail(Waiting& w, std::string_view why) {
  counters_.add("smppd_upstream_failed_total", {{"upstream", config_.name}, {"reason", why}});
  if (w.done) w.done(Result::failed, nullptr, {});
}

std::optional<std::size_t> Pool::pick_locked(Clock::time_point now, uint64_t key) {
  if (suspended_ || stopped_) return std::nullopt;
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    Slot& s = slots_[i];
    s.state.available = s.state.up && now >= s.paused_until && s.state.in_flight < s.window;
    candidates_[i] = s.state;
  }
  auto chosen = balancer_.pick(candidates_, key);
  if (!chosen) return std::nullopt;
  if (!rate_.try_take(now)) return std::nullopt;
  ++slots_[*chosen].state.in_flight;
  return chosen;
}

void Pool::submit(smpp::Pdu request, Completion done, uint64_t key) {
  const auto now = Clock::now();
  std::unique_lock lock(mutex_);
  if (stopped_) {
    lock.unlock();
    Waiting w{std::move(request), std::move(done), now, key};
    fail(w, "stopped");
    return;
  }
  if (waiting_.empty()) {
    if (auto slot = pick_locked(now, key)) {
      auto connection = slots_[*slot].connection;
      lock.unlock();
      connection->send(Waiting{std::move(request), std::move(done), now, key});
      return;
    }
  }
  if (waiting_.size() >= max_waiting_) {
    lock.unlock();
    Waiting w{std::move(request), std::move(done), now, key};
    fail(w, "queue_full");
    return;
  }
  waiting_.push_back(
      Waiting{std::move(request), std::move(done), now + config_.timeouts.response, key});
}

void Pool::drain() {
  std::vector<Waiting> expired;
  while (true) {
    std::unique_lock lock(mutex_);
    const auto now = Clock::now();
    while (!waiting_.empty() && waiting_.front().deadline <= now) {
      expired.push_back(std::move(waiting_.front()));
      waiting_.pop_front();
    }
    if (waiting_.empty()) break;
    auto slot = pick_locked(now, waiting_.front().key);
    if (!slot) break;
    Waiting w = std::move(waiting_.front());
    waiting_.pop_front();
    auto connection = slots_[*slot].connection;
    lock.unlock();
    connection->send(std::move(w));
  }
  for (auto& w : expired) fail(w, "no_connection_in_time");
}

void Pool::connection_up(std::size_t slot, uint32_t window) {
  {
    std::lock_guard lock(mutex_);
    Slot& s = slots_.at(slot);
    s.state.up = true;
    s.state.in_flight = 0;
    s.window = std::max<uint32_t>(1, window);
    s.pause = Duration(0);
    s.paused_until = {};
  }
  drain();
}

void Pool::connection_down(std::size_t slot) {
  std::lock_guard lock(mutex_);
  Slot& s = slots_.at(slot);
  s.state.up = false;
  s.state.in_flight = 0;
}

void Pool::request_done(std::size_t slot, Result, uint32_t, double latency_ms) {
  {
    std::lock_guard lock(mutex_);
    Slot& s = slots_.at(slot);
    if (s.state.in_flight > 0) --s.state.in_flight;
    s.pause = Duration(0);
    balancer_.observe_latency(s.state.host, latency_ms);
    if (waiting_.empty()) return;
  }
  drain();
}

void Pool::throttled(std::size_t slot, Waiting retry) {
  {
    std::lock_guard lock(mutex_);
    Slot& s = slots_.at(slot);
    if (s.state.in_flight > 0) --s.state.in_flight;
    if (s.state.up) {
      s.pause = s.pause.count() == 0 ? kFirstPause : std::min(s.pause * 2, kMaxPause);
      s.paused_until = Clock::now() + s.pause;
    }
    // First in line again: it keeps its place before later requests.
    retry.deadline = Clock::now() + config_.timeouts.response;
    waiting_.push_front(std::move(retry));
  }
  counters_.add("smppd_upstream_throttled_total", {{"upstream", config_.name}});
  drain();
}

}  // namespace smppd::upstream
