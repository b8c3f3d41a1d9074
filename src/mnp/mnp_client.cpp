#include "mnp/mnp_client.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <cctype>
#include <stdexcept>
#include <unordered_map>
#include <utility>
#include <vector>

#include "api/http/async_client.hpp"
#include "core/log_aggregate.hpp"
#include "mnp/mnp_response.hpp"

namespace smppd::mnp {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

std::string_view to_string(AnswerSource source) {
  switch (source) {
    case AnswerSource::cache:
      return "cache";
    case AnswerSource::provider:
      return "provider";
    case AnswerSource::fallback:
      return "fallback";
  }
  return "fallback";
}

namespace {

MnpAnswer fallback(std::string error) {
  MnpAnswer a;
  a.source = AnswerSource::fallback;
  a.error = std::move(error);
  return a;
}

MnpAnswer answer_of(const Network& n, AnswerSource source) {
  MnpAnswer a;
  a.mcc = n.mcc_text();
  a.mnc = n.mnc_text();
  a.is_ported = n.ported;
  a.source = source;
  return a;
}

std::string ms(std::chrono::milliseconds d) {
  return std::to_string(d.count()) + " ms";
}

void replace_all(std::string& text, std::string_view what, std::string_view with) {
  for (std::size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + with.size())) {
    text.replace(at, what.size(), with);
  }
}

bool mentions_number(std::string_view text) {
  return text.find("{number}") != std::string_view::npos ||
         text.find("{e164}") != std::string_view::npos;
}

bool same_header(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

}  // namespace

// Everything but the counters and the constants runs on `strand`.
struct MnpClient::State : std::enable_shared_from_this<State> {
  State(const asio::any_io_executor& executor, config::MnpConfig c, Settings s,
        std::shared_ptr<MnpCache> shared_cache, AnswerFormat f)
      : strand(asio::make_strand(executor)),
        config_(std::move(c)),
        settings(std::move(s)),
        format(std::move(f)),
        cache(cache_to_use(std::move(shared_cache))),
        http(executor, http_settings()) {}

  // Members are made in order: these read only those declared before the one they make.
  std::shared_ptr<MnpCache> cache_to_use(std::shared_ptr<MnpCache> shared) const {
    if (!config_.enabled || !config_.cache_enabled) return nullptr;
    if (shared) return shared;
    return std::make_shared<MnpCache>(static_cast<std::size_t>(config_.cache_max_size));
  }

  http::AsyncClient::Settings http_settings() const {
    http::AsyncClient::Settings h;
    // The whole lookup: connecting and waiting for a free connection count.
    h.request_timeout = config_.timeout;
    h.connect_timeout = config_.timeout;
    h.max_concurrent_per_origin = config_.max_concurrent;
    h.max_idle_per_origin = config_.max_concurrent;
    h.max_queued_per_origin = settings.max_queued_requests;
    h.max_response_body_bytes = 64 * 1024;
    h.tls = settings.tls;
    h.tls_ca_file = settings.tls_ca_file;
    return h;
  }

  const asio::any_io_executor strand;
  const config::MnpConfig config_;
  const Settings settings;
  const AnswerFormat format;
  const std::shared_ptr<MnpCache> cache;
  http::AsyncClient http;
  std::atomic<bool> stop_requested{false};

  struct Counters {
    std::atomic<uint64_t> lookups{0}, cache_hits{0}, cached_failures{0}, requests{0}, merged{0},
        provider_answers{0}, failed_requests{0}, fallbacks{0}, paused{0};
  } counters;

  // On the strand.
  bool stopped = false;
  std::unordered_map<uint64_t, std::vector<Callback>> waiting;  // number -> its lookups
  std::size_t waiters = 0;
  uint32_t failures_in_a_row = 0;
  Clock::time_point paused_until{};
  bool probing = false;  // the request that may end a pause is on its way

  std::optional<MnpAnswer> immediate(std::string_view e164, std::optional<uint64_t>& number);
  void deliver(Callback done, MnpAnswer answer);
  void start(uint64_t number, Callback done);
  void send(uint64_t number);
  void on_result(uint64_t number, http::AsyncClient::Result result, bool probe);
  void finish(uint64_t number, const MnpAnswer& answer);
  http::AsyncClient::Request request_for(uint64_t number) const;
  MnpAnswer remembered_failure() const {
    return fallback("the lookup of this number failed less than " + ms(config_.cache_negative_ttl) +
                    " ago (mnp.cache.negative_ttl)");
  }
  void count(const MnpAnswer& answer) {
    if (answer.source == AnswerSource::fallback)
      counters.fallbacks.fetch_add(1, std::memory_order_relaxed);
  }
};

namespace {

log::Aggregated& lookup_failures() {
  // spdlog's registry made first, so that it is destroyed after the lines: what they still have
  // to say at exit is said to a logger that is there (the daemon sets the logger up first
  // anyway; a test may not).
  static const bool logger_first = spdlog::default_logger_raw() != nullptr;
  static log::Aggregated lines(log::Level::warn, "MNP lookups that failed");
  (void)logger_first;
  return lines;
}

}  // namespace

std::optional<MnpAnswer> MnpClient::State::immediate(std::string_view e164,
                                                     std::optional<uint64_t>& number) {
  if (!config_.enabled) return fallback("MNP lookups are disabled (mnp.enabled: false)");
  number = pack_number(e164);
  if (!number) return fallback("not an E.164 number (an optional '+' and 1 to 15 digits)");
  if (!cache) return std::nullopt;
  const auto hit = cache->find(*number, Clock::now());
  if (!hit) return std::nullopt;
  if (hit->failed) {
    counters.cached_failures.fetch_add(1, std::memory_order_relaxed);
    return remembered_failure();
  }
  counters.cache_hits.fetch_add(1, std::memory_order_relaxed);
  return answer_of(hit->network, AnswerSource::cache);
}

void MnpClient::State::deliver(Callback done, MnpAnswer answer) {
  count(answer);
  asio::post(strand, [done = std::move(done), answer = std::move(answer)]() mutable {
    done(std::move(answer));
  });
}

void MnpClient::State::start(uint64_t number, Callback done) {
  if (stopped) return deliver(std::move(done), fallback("client stopping"));
  // The answer (or a failure) may have come while this lookup was on its way to the strand.
  if (cache) {
    if (const auto hit = cache->find(number, Clock::now()); hit && hit->failed) {
      counters.cached_failures.fetch_add(1, std::memory_order_relaxed);
      return deliver(std::move(done), remembered_failure());
    } else if (hit) {
      counters.cache_hits.fetch_add(1, std::memory_order_relaxed);
      return deliver(std::move(done), answer_of(hit->network, AnswerSource::cache));
    }
  }
  if (waiters >= settings.max_waiting) {
    return deliver(std::move(done),
                   fallback("too many lookups waiting (" + std::to_string(waiters) + ")"));
  }
  auto [it, first] = waiting.try_emplace(number);
  it->second.push_back(std::move(done));
  ++waiters;
  if (!first) {
    counters.merged.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  send(number);
}

void MnpClient::State::send(uint64_t number) {
  const bool paused =
      settings.failures_to_pause > 0 && failures_in_a_row >= settings.failures_to_pause;
  bool probe = false;
  if (paused) {
    const auto now = Clock::now();
    if (now < paused_until || probing) {
      counters.paused.fetch_add(1, std::memory_order_relaxed);
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::max(paused_until - now, Clock::duration::zero()));
      // Not the number's doing: nothing is remembered of it.
      return finish(number, fallback("the provider failed " + std::to_string(failures_in_a_row) +
                                     " times in a row: lookups paused" +
                                     (probing ? std::string(" until a request in flight answers")
                                              : " for " + ms(left) + " more")));
    }
    probe = true;
    probing = true;
  }
  counters.requests.fetch_add(1, std::memory_order_relaxed);
  http.request(request_for(number), [self = shared_from_this(), number,
                                     probe](http::AsyncClient::Result result) {
    // The HTTP client's strand is not ours.
    asio::dispatch(self->strand, [self, number, probe, result = std::move(result)]() mutable {
      self->on_result(number, std::move(result), probe);
    });
  });
}

http::AsyncClient::Request MnpClient::State::request_for(uint64_t number) const {
  const std::string digits = unpack_number(number);
  http::AsyncClient::Request r;
  r.url = config_.url;
  if (config_.provider == config::MnpProvider::xconnect && !mentions_number(r.url))
    r.url += (r.url.find('?') == std::string::npos ? "?" : "&") + std::string("number={e164}");
  replace_all(r.url, "{number}", digits);
  replace_all(r.url, "{e164}", "%2B" + digits);
  switch (config_.provider) {
    case config::MnpProvider::xconnect:
      r.method = "GET";
      break;
    case config::MnpProvider::hlr_lookup:
      // hlr-lookups.com's POST /hlr-lookup and /mnp-lookup.
      r.method = "POST";
      r.body = "{\"msisdn\":\"+" + digits + "\"}";
      break;
    case config::MnpProvider::custom:
      r.method = config_.method;
      r.body = config_.body;
      replace_all(r.body, "{number}", digits);
      replace_all(r.body, "{e164}", "+" + digits);
      break;
  }
  r.headers.emplace_back("Accept", "application/json");
  if (!r.body.empty()) r.headers.emplace_back("Content-Type", "application/json");
  bool authorization = false;
  for (const auto& [name, value] : config_.headers) {
    authorization = authorization || same_header(name, "Authorization");
    r.headers.emplace_back(name, value);
  }
  if (!config_.api_key.empty() && !authorization)
    r.headers.emplace_back("Authorization", "Bearer " + config_.api_key);
  return r;
}

void MnpClient::State::on_result(uint64_t number, http::AsyncClient::Result result, bool probe) {
  if (probe) probing = false;
  std::string error;
  bool unavailable = false;  // says nothing of the number: the provider is not there
  // Not asked at all (async_client.hpp's words): says nothing of the provider or the number.
  const bool not_asked =
      result.status == 0 && (result.error == "client stopping" || result.error == "queue full");
  if (result.status == 0) {
    error = "no answer from the provider: " + result.error;
    unavailable = !not_asked;
  } else if (result.status < 200 || result.status >= 300) {
    error = "the provider answered HTTP " + std::to_string(result.status);
    const std::string said = error_message(result.body);
    if (!said.empty()) error += ": " + said;
    unavailable = result.retryable;
  } else {
    ParsedAnswer parsed = parse_answer(format, result.body);
    if (parsed.ok()) {
      counters.provider_answers.fetch_add(1, std::memory_order_relaxed);
      failures_in_a_row = 0;
      if (cache) cache->put(number, *parsed.network, Clock::now(), config_.cache_ttl);
      return finish(number, answer_of(*parsed.network, AnswerSource::provider));
    }
    error = std::move(parsed.error);
  }
  counters.failed_requests.fetch_add(1, std::memory_order_relaxed);
  const bool stopping = stopped || result.error == "client stopping";
  if (!stopping) lookup_failures()("MNP lookup failed, routed as not ported: {}", error);
  if (!stopping && !not_asked) {
    if (cache && config_.cache_negative_ttl > std::chrono::milliseconds(0))
      cache->put_failure(number, Clock::now(), config_.cache_negative_ttl);
    if (unavailable) {
      ++failures_in_a_row;
      if (settings.failures_to_pause > 0 && failures_in_a_row >= settings.failures_to_pause)
        paused_until = Clock::now() + settings.pause;
    } else {
      // An answer (if not a useful one): the provider is there.
      failures_in_a_row = 0;
    }
  }
  finish(number, fallback(std::move(error)));
}

void MnpClient::State::finish(uint64_t number, const MnpAnswer& answer) {
  const auto it = waiting.find(number);
  if (it == waiting.end()) return;
  std::vector<Callback> callbacks = std::move(it->second);
  waiting.erase(it);
  waiters -= callbacks.size();
  for (Callback& done : callbacks) deliver(std::move(done), answer);
}

MnpClient::MnpClient(asio::any_io_executor executor, config::MnpConfig config, Settings settings,
                     std::shared_ptr<MnpCache> cache) {
  if (config.enabled && config.url.empty())
    throw std::invalid_argument("MNP: the provider's section has no url");
  if (config.timeout <= std::chrono::milliseconds(0))
    throw std::invalid_argument("MNP: the timeout must be positive");
  if (config.max_concurrent == 0) throw std::invalid_argument("MNP: max_concurrent must be >= 1");
  std::string error;
  auto format = make_answer_format(config, error);
  if (!format) throw std::invalid_argument("MNP: " + error);
  state_ = std::make_shared<State>(executor, std::move(config), std::move(settings),
                                   std::move(cache), std::move(*format));
}

MnpClient::~MnpClient() {
  stop();
}

void MnpClient::lookup(std::string_view e164, Callback done) {
  State& s = *state_;
  s.counters.lookups.fetch_add(1, std::memory_order_relaxed);
  std::optional<uint64_t> number;
  if (auto answer = s.immediate(e164, number))
    return s.deliver(std::move(done), std::move(*answer));
  if (s.stop_requested.load(std::memory_order_relaxed))
    return s.deliver(std::move(done), fallback("client stopping"));
  asio::post(s.strand, [self = state_, number = *number, done = std::move(done)]() mutable {
    self->start(number, std::move(done));
  });
}

std::optional<MnpAnswer> MnpClient::cached(std::string_view e164) {
  std::optional<uint64_t> number;
  auto answer = state_->immediate(e164, number);
  if (answer) state_->count(*answer);
  return answer;
}

void MnpClient::stop() {
  if (state_->stop_requested.exchange(true)) return;
  asio::post(state_->strand, [s = state_] {
    s->stopped = true;
    // Requests in flight end with "client stopping", and so do their waiters.
    s->http.stop();
  });
}

MnpClient::Stats MnpClient::stats() const {
  const auto& c = state_->counters;
  auto get = [](const std::atomic<uint64_t>& v) { return v.load(std::memory_order_relaxed); };
  Stats s;
  s.lookups = get(c.lookups);
  s.cache_hits = get(c.cache_hits);
  s.cached_failures = get(c.cached_failures);
  s.requests = get(c.requests);
  s.merged = get(c.merged);
  s.provider_answers = get(c.provider_answers);
  s.failed_requests = get(c.failed_requests);
  s.fallbacks = get(c.fallbacks);
  s.paused = get(c.paused);
  return s;
}

const std::shared_ptr<MnpCache>& MnpClient::cache() const {
  return state_->cache;
}

}  // namespace smppd::mnp
