#include "server/mnp_lookups.hpp"

#include <boost/asio/post.hpp>

#include "core/log.hpp"

namespace smppd::server {

namespace {

gateway::NumberAnswer number_answer(mnp::MnpAnswer a) {
  return gateway::NumberAnswer{std::move(a.mcc), std::move(a.mnc), a.is_ported};
}

void add(mnp::MnpClient::Stats& to, const mnp::MnpClient::Stats& s) {
  to.lookups += s.lookups;
  to.cache_hits += s.cache_hits;
  to.cached_failures += s.cached_failures;
  to.requests += s.requests;
  to.merged += s.merged;
  to.provider_answers += s.provider_answers;
  to.failed_requests += s.failed_requests;
  to.fallbacks += s.fallbacks;
  to.paused += s.paused;
}

std::string_view provider_name(config::MnpProvider p) {
  switch (p) {
    case config::MnpProvider::xconnect:
      return "xconnect";
    case config::MnpProvider::hlr_lookup:
      return "hlr_lookup";
    case config::MnpProvider::custom:
      return "custom";
  }
  return "custom";
}

}  // namespace

void MnpLookups::Answers::count(mnp::AnswerSource source) {
  switch (source) {
    case mnp::AnswerSource::cache:
      from_cache.fetch_add(1, std::memory_order_relaxed);
      return;
    case mnp::AnswerSource::provider:
      from_provider.fetch_add(1, std::memory_order_relaxed);
      return;
    case mnp::AnswerSource::fallback:
      fallbacks.fetch_add(1, std::memory_order_relaxed);
      return;
  }
}

MnpLookups::MnpLookups(boost::asio::any_io_executor executor, mnp::MnpClientSettings settings)
    : executor_(std::move(executor)), settings_(std::move(settings)) {}

MnpLookups::~MnpLookups() {
  stop();
}

std::string MnpLookups::configure(const config::MnpConfig& mnp) {
  std::lock_guard lock(mutex_);
  if (stopped_) return {};
  if (owner_ ? mnp == config_ : !mnp.enabled) {
    config_ = mnp;
    return {};
  }
  std::shared_ptr<mnp::MnpClient> made;
  if (mnp.enabled) {
    std::shared_ptr<mnp::MnpCache> cache;
    if (owner_ && owner_->cache() && mnp.cache_enabled &&
        mnp.cache_max_size == config_.cache_max_size) {
      cache = owner_->cache();
    }
    made = std::make_shared<mnp::MnpClient>(executor_, mnp, settings_, cache);
  }
  const auto now = std::chrono::steady_clock::now();
  std::erase_if(retired_, [&](auto& r) {
    if (now - r.first < kLinger) return false;
    add(dropped_, r.second->stats());
    return true;
  });
  std::string what;
  if (!made) {
    what = "mnp disabled";
  } else if (!owner_) {
    what = "mnp enabled (" + std::string(provider_name(mnp.provider)) + ")";
  } else {
    what =
        "mnp changed (" + std::string(provider_name(mnp.provider)) +
        (made->cache() && made->cache() == owner_->cache() ? ", the cache kept" : ", a new cache") +
        ")";
  }
  if (owner_) retired_.emplace_back(now, std::move(owner_));
  owner_ = std::move(made);
  config_ = mnp;
  current_.store(owner_.get(), std::memory_order_release);
  return what;
}

void MnpLookups::stop() {
  std::lock_guard lock(mutex_);
  stopped_ = true;
  if (owner_) owner_->stop();
  for (auto& [when, client] : retired_) client->stop();
}

MnpLookups::Stats MnpLookups::stats() const {
  Stats s;
  s.from_cache = answers_->from_cache.load(std::memory_order_relaxed);
  s.from_provider = answers_->from_provider.load(std::memory_order_relaxed);
  s.fallbacks = answers_->fallbacks.load(std::memory_order_relaxed);
  std::lock_guard lock(mutex_);
  s.clients = dropped_;
  if (owner_) add(s.clients, owner_->stats());
  for (const auto& [when, client] : retired_) add(s.clients, client->stats());
  return s;
}

std::optional<gateway::NumberAnswer> MnpLookups::cached(std::string_view e164) {
  mnp::MnpClient* client = current_.load(std::memory_order_acquire);
  if (client == nullptr) {
    // mnp disabled by a reload while a route still asks: no lookups, the fallback.
    answers_->count(mnp::AnswerSource::fallback);
    return gateway::NumberAnswer{};
  }
  std::optional<mnp::MnpAnswer> answer = client->cached(e164);
  if (!answer) return std::nullopt;
  answers_->count(answer->source);
  return number_answer(std::move(*answer));
}

void MnpLookups::lookup(std::string_view e164, std::function<void(gateway::NumberAnswer)> done) {
  mnp::MnpClient* client = current_.load(std::memory_order_acquire);
  if (client == nullptr) {
    answers_->count(mnp::AnswerSource::fallback);
    // Never inside lookup() (the contract): the caller may hold what the answer takes.
    boost::asio::post(executor_, [done = std::move(done)] { done(gateway::NumberAnswer{}); });
    return;
  }
  client->lookup(e164, [answers = answers_, done = std::move(done)](mnp::MnpAnswer a) {
    answers->count(a.source);
    if (a.source == mnp::AnswerSource::fallback && !a.error.empty())
      log::debug("MNP lookup fell back to not ported: {}", a.error);
    done(number_answer(std::move(a)));
  });
}

}  // namespace smppd::server
