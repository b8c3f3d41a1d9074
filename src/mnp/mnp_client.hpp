// Number portability lookups: which network serves a number now, asked of the configured
// provider (mnp.xconnect, mnp.hlr_lookup or mnp.custom) over HTTP and remembered in the cache
// (mnp_cache.hpp). The router's routes by mnc or is_ported are to take the answer as data.
//
// A lookup never blocks a thread and always ends with one answer, by the provider's timeout at
// the latest. When the provider is slow, down, refuses, or answers what does not name a network
// plainly (mnp_response.hpp), the answer is the fallback: not ported, no mcc/mnc, with the reason
// in `error`; such a failure is remembered for mnp.cache.negative_ttl (default 1 min; 0: not),
// so that a number messages keep going to costs one request, not one per message, while the
// provider is down. After `failures_to_pause` failures in a row that say the provider is
// unavailable (no connection, no answer in time, 5xx, 429, 408), lookups fall back at once for
// `pause`; then one request goes through, and its success ends the pause.
//
// Concurrent lookups of the same number are merged: one request, every waiter answered with its
// result. Requests to the provider are at most mnp.<provider>.max_concurrent at a time; more wait
// in the HTTP client's bounded queue (answered "queue full" beyond it), within their timeout.
//
// Threads: lookup() and cached() may be called from any thread. Callbacks run on the client's
// strand (of the executor given), never inside lookup(); hop to your own executor from there.
// Knows HTTP (api/http/async_client.hpp) and the configuration; nothing of the message path.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "mnp/mnp_cache.hpp"

namespace smppd::mnp {

enum class AnswerSource : uint8_t {
  cache,     // remembered from an earlier answer of the provider
  provider,  // the provider's answer to this lookup (or to the one it was merged with)
  fallback,  // no answer to go by: route as not ported (`error` says why)
};
std::string_view to_string(AnswerSource source);

struct MnpAnswer {
  std::string mcc;  // 3 digits; empty for a fallback
  std::string mnc;  // 2 or 3 digits; empty for a fallback
  bool is_ported = false;
  AnswerSource source = AnswerSource::fallback;
  std::string error;  // a fallback's reason; empty otherwise
};

// What the configuration does not say (defaults fit the daemon; tests shorten them).
struct MnpClientSettings {
  // Lookups waiting for the provider, merged ones included; beyond, a lookup falls back at
  // once ("too many lookups waiting").
  std::size_t max_waiting = 100000;
  // The HTTP client's queue behind max_concurrent requests to the provider.
  std::size_t max_queued_requests = 1000;
  uint32_t failures_to_pause = 5;  // 0: never pause
  std::chrono::milliseconds pause{5000};
  // https: null verifies the provider against tls_ca_file (empty: the system's store).
  std::shared_ptr<boost::asio::ssl::context> tls;
  std::string tls_ca_file;
};

class MnpClient {
 public:
  using Callback = std::function<void(MnpAnswer)>;

  using Settings = MnpClientSettings;

  struct Stats {
    uint64_t lookups = 0;           // lookup() calls (cached() is not counted here)
    uint64_t cache_hits = 0;        // answered from the cache
    uint64_t cached_failures = 0;   // answered by a remembered failure (fallback)
    uint64_t requests = 0;          // sent to the provider
    uint64_t merged = 0;            // joined a request already on its way for the same number
    uint64_t provider_answers = 0;  // requests the provider answered with a network
    uint64_t failed_requests = 0;   // requests that ended in the fallback
    uint64_t fallbacks = 0;         // lookups answered with the fallback, for whatever reason
    uint64_t paused = 0;            // of those, while the provider was paused
  };

  // Throws std::invalid_argument when `config` is not one the loader accepts (no url, a custom
  // field path that does not parse), std::runtime_error when the TLS context cannot be made.
  // `cache`: one to share (kept across reloads); null: a cache of mnp.cache.max_size is made when
  // mnp.enabled and mnp.cache.enabled.
  MnpClient(boost::asio::any_io_executor executor, config::MnpConfig config, Settings settings = {},
            std::shared_ptr<MnpCache> cache = nullptr);
  // stop(); answers still due come (as fallbacks) once the executor runs.
  ~MnpClient();
  MnpClient(const MnpClient&) = delete;
  MnpClient& operator=(const MnpClient&) = delete;

  // Looks `e164` up ('+' optional, 1 to 15 digits); `done` gets the answer once, on the
  // client's strand. Thread safe.
  void lookup(std::string_view e164, Callback done);
  // The answer there is without asking the provider: a cached one (or a remembered failure), or
  // the fallback when lookups are disabled or `e164` is not a number; std::nullopt when it would
  // take a request. For the message path's fast path, before lookup(). Thread safe.
  std::optional<MnpAnswer> cached(std::string_view e164);
  // Answers what waits with the fallback ("client stopping") and later lookups too. Idempotent.
  void stop();

  Stats stats() const;
  // The cache in use; null when mnp.enabled or mnp.cache.enabled is false.
  const std::shared_ptr<MnpCache>& cache() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace smppd::mnp
