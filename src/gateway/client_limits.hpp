// A client's own limits on its messages (`clients[].rate_limit`), one entry per configured
// system_id shared by all its sessions on every listener:
//  - `messages_per_second` (with `burst`): submit_sm, data_sm and submit_multi beyond it are
//    answered ESME_RTHROTTLED by the gateway, before routing;
//  - `window_size`: its requests in flight across its sessions; the sessions themselves answer
//    those beyond it ESME_RMSGQFUL (session::SharedWindow).
// A reload updates the entries in place: a new rate or window applies to the next message. A
// window set where there was none applies to sessions bound after it.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "core/string_map.hpp"
#include "limits/shared_rate.hpp"
#include "session/shared_window.hpp"

namespace smppd::gateway {

struct ClientLimit {
  limits::SharedRate rate;
  // Given to the client's sessions at bind when the window is bounded.
  std::shared_ptr<session::SharedWindow> window = std::make_shared<session::SharedWindow>();
};

class ClientLimits {
 public:
  // Thread safe; entries of clients no longer configured are dropped (their sessions keep
  // theirs until they close).
  void configure(const std::vector<config::ClientConfig>& clients);
  // At bind; null for a system_id that is not configured.
  std::shared_ptr<ClientLimit> find(std::string_view system_id) const;
  // At the bind (or API request) of an externally authenticated client (extauth/): its entry,
  // shared by its sessions and requests, set to the rate its backend gave last. Kept between
  // requests; past kMaxExternal entries, those no session holds are forgotten. A configured
  // client of that name keeps its own.
  static constexpr std::size_t kMaxExternal = 10000;
  std::shared_ptr<ClientLimit> external(const std::shared_ptr<const config::ClientConfig>& settings);
  // The settings an external client was last admitted with (null: none kept), and every kept
  // external client's, for the management API.
  std::shared_ptr<const config::ClientConfig> external_settings(std::string_view system_id) const;
  std::vector<std::shared_ptr<const config::ClientConfig>> external_clients() const;
  // An external client's entry, if kept (null otherwise).
  std::shared_ptr<ClientLimit> find_external(std::string_view system_id) const;

  struct Seen {
    std::string client;
    double messages_per_second = 0;
    uint32_t window_size = 0;
    uint32_t in_flight = 0;
    uint64_t rate_refused = 0;
    uint64_t window_refused = 0;
  };
  // For the metrics and the management API: every configured client, and every external one
  // kept (see external()), sorted by system_id.
  std::vector<Seen> seen() const;

 private:
  struct Entry {
    std::shared_ptr<ClientLimit> limit;
    double messages_per_second = 0;
  };
  struct ExternalEntry {
    std::shared_ptr<ClientLimit> limit;
    double messages_per_second = 0;
    std::shared_ptr<const config::ClientConfig> settings;
  };
  mutable std::mutex mutex_;
  StringMap<Entry> by_id_;
  StringMap<ExternalEntry> external_;
};

}  // namespace smppd::gateway
