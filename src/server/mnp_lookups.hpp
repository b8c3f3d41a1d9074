// The gateway's NumberLookup (gateway/number_lookup.hpp) over the MNP client of the configuration
// in effect (mnp/mnp_client.hpp): made when mnp.enabled, replaced when a reload changes the mnp
// section, stopped at shutdown.
//
// A replaced client is not stopped: the lookups it took end as they would have (by its timeout
// at the latest), and it is dropped at a later reload, kLinger after. The new one shares the old
// one's cache when the cache's size stays: what the provider answered is still true of those
// numbers when only the provider's address, key or timeout changed.
//
// The message path reads the client in effect with one atomic load (no lock): a retired client
// lives at least kLinger after it was replaced, far longer than a call holds it.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "gateway/number_lookup.hpp"
#include "mnp/mnp_client.hpp"

namespace smppd::server {

class MnpLookups final : public gateway::NumberLookup {
 public:
  // `executor`: where the clients do their HTTP requests.
  explicit MnpLookups(boost::asio::any_io_executor executor, mnp::MnpClientSettings settings = {});
  ~MnpLookups() override;
  MnpLookups(const MnpLookups&) = delete;
  MnpLookups& operator=(const MnpLookups&) = delete;

  // Makes the client `mnp` asks for (none when it is disabled), unless it is the one in effect.
  // Returns what changed for a reload's log ("mnp: provider changed ..."), empty when nothing
  // did. Throws what MnpClient's constructor throws (a TLS context that cannot be made); the
  // client in effect stays then.
  std::string configure(const config::MnpConfig& mnp);
  // Every client answers what waits with the fallback, and later lookups too. Idempotent.
  void stop();

  // What the message path was answered, by where the answer came from, and the clients'
  // counts (every client made, replaced ones included).
  struct Stats {
    uint64_t from_cache = 0;
    uint64_t from_provider = 0;
    uint64_t fallbacks = 0;
    mnp::MnpClient::Stats clients;
  };
  Stats stats() const;
  bool enabled() const { return current_.load(std::memory_order_acquire) != nullptr; }

  // gateway::NumberLookup
  std::optional<gateway::NumberAnswer> cached(std::string_view e164) override;
  void lookup(std::string_view e164, std::function<void(gateway::NumberAnswer)> done) override;

  // Longer than any lookup (mnp timeouts are at most 60 s).
  static constexpr std::chrono::minutes kLinger{2};

 private:
  struct Answers {
    std::atomic<uint64_t> from_cache{0}, from_provider{0}, fallbacks{0};
    void count(mnp::AnswerSource source);
  };

  const boost::asio::any_io_executor executor_;
  const mnp::MnpClientSettings settings_;
  // Shared with the callbacks of lookups, which may end after this object is gone (at exit).
  const std::shared_ptr<Answers> answers_ = std::make_shared<Answers>();
  std::atomic<mnp::MnpClient*> current_{nullptr};

  mutable std::mutex mutex_;               // the rest: configure(), stop(), stats()
  std::shared_ptr<mnp::MnpClient> owner_;  // current_
  config::MnpConfig config_;               // owner_'s
  std::vector<std::pair<std::chrono::steady_clock::time_point, std::shared_ptr<mnp::MnpClient>>>
      retired_;
  mnp::MnpClient::Stats dropped_;  // of the retired clients dropped since
  bool stopped_ = false;
};

}  // namespace smppd::server
