#include "extauth/authenticator.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "auth/clients.hpp"
#include "core/log.hpp"
#include "core/log_aggregate.hpp"
#include "extauth/answer_cache.hpp"
#include "extauth/backends.hpp"
#include "net/endpoint.hpp"

namespace smppd::extauth {

namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

std::string_view kind_name(Verdict::Kind k) {
  switch (k) {
    case Verdict::Kind::accepted:
      return "accepted";
    case Verdict::Kind::unknown:
      return "unknown";
    case Verdict::Kind::refused:
      return "refused";
    case Verdict::Kind::failed:
      return "failed";
  }
  return "failed";
}

// The backends of one configuration, in auth.order.
struct Setup {
  config::AuthConfig auth;
  std::set<std::string, std::less<>> upstream_names;
  std::vector<std::shared_ptr<Backend>> backends;
};

// What the backends asked so far said.
struct Progress {
  bool refused = false;
  bool unknown = false;
  std::string failures;  // "ldap: ...; http: ..."
};

}  // namespace

// Handlers hold it by pointer: it outlives them (stop() joins every thread that runs them).
struct Authenticator::State {
  explicit State(Counters& c) : counters(c), cache(100000) {}

  Counters& counters;
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  std::thread thread;
  std::mutex mutex;
  std::shared_ptr<const Setup> setup;                  // under mutex
  std::vector<std::shared_ptr<const Setup>> retired;   // under mutex
  bool stopped = false;                                // under mutex
  std::map<AnswerCache::Key, std::vector<Done>> pending;  // under mutex
  AnswerCache cache;
  log::Aggregated failures{log::Level::warn, "external authentication failures"};

  // Remembers an answer of `s` if it is the configuration in effect: answers of one a reload
  // replaced are not (their defaults and upstreams are the old ones). Under the mutex, as the
  // swap and the clearing in configure() are.
  void remember(const Setup* s, const AnswerCache::Key& key, AnswerCache::Entry e) {
    std::lock_guard lock(mutex);
    if (setup.get() == s) cache.put(key, std::move(e));
  }
  void step(std::shared_ptr<const Setup> s, std::shared_ptr<const Request> r,
            AnswerCache::Key key, std::size_t index, Progress progress);
  void finish(const Setup& s, const Request& r, const AnswerCache::Key& key, Answer a);
};

void Authenticator::State::step(std::shared_ptr<const Setup> s, std::shared_ptr<const Request> r,
                                AnswerCache::Key key, std::size_t index, Progress progress) {
  if (index == s->backends.size()) {
    Answer a;
    const auto now = Clock::now();
    if (!progress.failures.empty()) {
      // No backend said yes and one could not say. Only when none refused the password (a
      // refusal now outweighs an accept remembered), a stale accept, if one is kept. (A backend
      // that does not know the client says nothing against another's accept.)
      auto kept = progress.refused ? std::nullopt : cache.find(key, now, true);
      if (kept && kept->client) {
        a.outcome = Answer::Outcome::accepted;
        a.client = kept->client;
        a.backend = kept->backend;
        a.stale = true;
        log::warn("auth: '{}' admitted on a stale answer of {} (the backends failed: {})",
                  r->system_id, kept->backend, progress.failures);
      } else {
        a.outcome = Answer::Outcome::failed;
        a.reason = kBackendFailed;
        failures("auth: '{}' from {}: no backend could answer: {}", r->system_id,
                 r->peer.to_string(), progress.failures);
      }
    } else {
      a.outcome = Answer::Outcome::refused;
      a.reason = progress.refused ? auth::reason::kWrongPassword : auth::reason::kUnknownSystemId;
      if (s->auth.negative_ttl.count() > 0) {
        remember(s.get(), key, AnswerCache::Entry{nullptr, a.reason, "", now + s->auth.negative_ttl,
                                                  now + s->auth.negative_ttl});
      }
    }
    finish(*s, *r, key, std::move(a));
    return;
  }
  const std::shared_ptr<Backend>& backend = s->backends[index];
  backend->check(*r, [self = this, s, r, key, index, progress = std::move(progress),
                      backend](Verdict v) mutable {
    self->counters.add("smppd_auth_backend_requests_total",
                       {{"backend", backend->name()}, {"outcome", kind_name(v.kind)}});
    switch (v.kind) {
      case Verdict::Kind::accepted: {
        Answer a;
        a.outcome = Answer::Outcome::accepted;
        a.client = v.client;
        a.backend = std::string(backend->name());
        const auto now = Clock::now();
        const auto ttl = backend->cache_ttl();
        if (ttl.count() > 0) {
          self->remember(s.get(), key, AnswerCache::Entry{v.client, {}, a.backend, now + ttl,
                                                          now + ttl + s->auth.stale_ttl});
        }
        self->finish(*s, *r, key, std::move(a));
        return;
      }
      case Verdict::Kind::refused:
        progress.refused = true;
        break;
      case Verdict::Kind::unknown:
        progress.unknown = true;
        break;
      case Verdict::Kind::failed:
        if (!progress.failures.empty()) progress.failures += "; ";
        progress.failures += std::string(backend->name()) + ": " + v.error;
        break;
    }
    self->step(std::move(s), std::move(r), key, index + 1, std::move(progress));
  });
}

void Authenticator::State::finish(const Setup&, const Request& r, const AnswerCache::Key& key,
                                  Answer a) {
  std::vector<Done> waiters;
  {
    std::lock_guard lock(mutex);
    auto it = pending.find(key);
    if (it != pending.end()) {
      waiters = std::move(it->second);
      pending.erase(it);
    }
  }
  const std::string_view outcome = a.stale ? "stale"
                                   : a.outcome == Answer::Outcome::accepted ? "accepted"
                                   : a.outcome == Answer::Outcome::refused  ? "refused"
                                                                             : "failed";
  counters.add("smppd_auth_external_total", {{"outcome", outcome}}, waiters.size());
  if (a.outcome == Answer::Outcome::accepted && !a.stale) {
    log::debug("auth: '{}' from {} accepted by {}", r.system_id, r.peer.to_string(), a.backend);
  }
  for (auto& done : waiters) done(a);
}

namespace {

std::optional<Answer> cached_answer(const Authenticator::State& state, const AnswerCache::Key& key,
                                    Clock::time_point now) {
  auto hit = state.cache.find(key, now, false);
  if (!hit) return std::nullopt;
  Answer a;
  a.cached = true;
  a.backend = hit->backend;
  if (hit->client) {
    a.outcome = Answer::Outcome::accepted;
    a.client = hit->client;
  } else {
    a.outcome = Answer::Outcome::refused;
    a.reason = hit->reason;
  }
  return a;
}

}  // namespace

std::optional<Answer> Authenticator::cached(const Request& request) const {
  {
    std::lock_guard lock(state_->mutex);
    if (state_->stopped || !state_->setup || state_->setup->backends.empty()) return std::nullopt;
  }
  const auto peer = net::address_bytes(request.peer);
  auto hit = cached_answer(*state_, state_->cache.key(request.system_id, request.password,
                                                      peer.view(), request.bind_type),
                           Clock::now());
  if (hit) {
    state_->counters.add("smppd_auth_external_total",
                         {{"outcome", hit->client ? "cached_accept" : "cached_refusal"}});
  }
  return hit;
}

Authenticator::Authenticator(Counters& counters) : state_(std::make_shared<State>(counters)) {
  state_->thread = std::thread([s = state_.get()] { s->io.run(); });
}

Authenticator::~Authenticator() { stop(); }

void Authenticator::configure(const config::Config& config) {
  std::set<std::string, std::less<>> upstreams;
  for (const auto& u : config.upstreams) upstreams.insert(u.name);
  std::shared_ptr<const Setup> old;
  {
    std::lock_guard lock(state_->mutex);
    old = state_->setup;
    if (state_->stopped) return;
  }
  if (old && old->auth == config.auth && old->upstream_names == upstreams) return;
  auto next = std::make_shared<Setup>();
  next->auth = config.auth;
  next->upstream_names = upstreams;
  auto names = std::make_shared<const std::set<std::string, std::less<>>>(std::move(upstreams));
  const auto& a = config.auth;
  for (config::AuthBackend b : a.order) {
    if (b == config::AuthBackend::ldap && a.ldap.enabled) {
      next->backends.push_back(make_ldap_backend(a.ldap, a.defaults, names));
    } else if (b == config::AuthBackend::radius && a.radius.enabled) {
      next->backends.push_back(make_radius_backend(state_->io.get_executor(), a.radius, a.defaults, names));
    } else if (b == config::AuthBackend::http && a.http.enabled) {
      next->backends.push_back(make_http_backend(state_->io.get_executor(), a.http, a.defaults, names));
    }
  }
  std::vector<std::shared_ptr<const Setup>> done_with;
  {
    std::lock_guard lock(state_->mutex);
    if (old) state_->retired.push_back(old);
    state_->setup = std::move(next);
    state_->cache.clear();
    state_->cache.limit(config.auth.max_cached);
    // Retired setups no ask uses any more go here, on this thread (an LDAP backend joins its
    // threads when it goes).
    for (auto it = state_->retired.begin(); it != state_->retired.end();) {
      if (it->use_count() == 1) {
        done_with.push_back(std::move(*it));
        it = state_->retired.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& s : done_with) {
    for (auto& b : s->backends) b->stop();
  }
}

bool Authenticator::enabled() const {
  std::lock_guard lock(state_->mutex);
  return state_->setup && !state_->setup->backends.empty() && !state_->stopped;
}

void Authenticator::authenticate(Request request, Done done) {
  const auto now = Clock::now();
  const auto peer = net::address_bytes(request.peer);
  const AnswerCache::Key key =
      state_->cache.key(request.system_id, request.password, peer.view(), request.bind_type);
  std::shared_ptr<const Setup> setup;
  {
    std::lock_guard lock(state_->mutex);
    setup = state_->setup;
    if (state_->stopped || !setup || setup->backends.empty()) {
      // Nothing runs the authenticator's thread any more: answered here.
      Answer a;
      a.reason = kBackendFailed;
      done(a);
      return;
    }
  }
  if (request.password.empty() || request.password.size() > kMaxPassword ||
      request.system_id.empty() || request.system_id.size() > kMaxSystemId) {
    // No backend is asked: an empty password would be an anonymous LDAP bind, and what is too
    // long to be anyone's is no one's.
    Answer a;
    a.outcome = Answer::Outcome::refused;
    a.reason = request.system_id.empty() || request.system_id.size() > kMaxSystemId
                   ? auth::reason::kUnknownSystemId
                   : auth::reason::kWrongPassword;
    state_->counters.add("smppd_auth_external_total", {{"outcome", "refused"}});
    done(a);
    return;
  }
  if (auto hit = cached_answer(*state_, key, now)) {
    state_->counters.add("smppd_auth_external_total",
                         {{"outcome", hit->client ? "cached_accept" : "cached_refusal"}});
    done(std::move(*hit));
    return;
  }
  {
    std::unique_lock lock(state_->mutex);
    if (state_->stopped) {
      lock.unlock();
      Answer a;
      a.reason = kBackendFailed;
      done(a);
      return;
    }
    auto [it, first] = state_->pending.try_emplace(key);
    it->second.push_back(std::move(done));
    if (!first) return;  // merged with the ask in flight
  }
  auto r = std::make_shared<const Request>(std::move(request));
  asio::post(state_->io, [s = state_.get(), setup = std::move(setup), r, key] {
    s->step(setup, r, key, 0, Progress{});
  });
}

void Authenticator::stop() {
  std::shared_ptr<const Setup> setup;
  std::vector<std::shared_ptr<const Setup>> retired;
  {
    std::lock_guard lock(state_->mutex);
    if (state_->stopped) return;
    state_->stopped = true;
    setup = std::move(state_->setup);
    retired = std::move(state_->retired);
  }
  if (setup) retired.push_back(std::move(setup));
  // LDAP asks drain (each ends by its timeout; those past it at once) while the I/O thread still
  // runs; the rest (HTTP, RADIUS) are answered by the drain of `pending` below.
  for (auto& s : retired) {
    for (auto& b : s->backends) b->stop();
  }
  state_->work.reset();
  state_->io.stop();
  if (state_->thread.joinable()) state_->thread.join();
  // What is still waiting (RADIUS tries cut short) is answered now: every `done` once.
  std::map<AnswerCache::Key, std::vector<Done>> left;
  {
    std::lock_guard lock(state_->mutex);
    left.swap(state_->pending);
  }
  Answer failed;
  failed.reason = kBackendFailed;
  for (auto& [key, waiters] : left) {
    for (auto& done : waiters) done(failed);
  }
}

}  // namespace smppd::extauth
