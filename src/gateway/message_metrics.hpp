// The series counted per message, found once per thread by numbers (a client's index, an
// upstream's, a status) rather than by building their labels: no lock and no string on the
// message path (core/counters.hpp, slot_for).
//
// Only configured clients and upstreams become label values; a status is one of the names the
// spec gives (unknown values share ESME_UNKNOWN / ESME_VENDOR), so a peer cannot grow the
// number of series.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "core/counters.hpp"
#include "core/string_map.hpp"
#include "gateway/message_map.hpp"

namespace smppd::gateway {

enum class Direction : uint8_t { mt, mo };

class MessageMetrics {
 public:
  // A system_id that is not a configured client (none can bind today; external authentication
  // will bring them) is counted as "other".
  static constexpr uint16_t kOtherClient = 0xFFFF;
  // Submit -> delivery receipt, in milliseconds (exposed in seconds).
  static const Buckets kReceiptLatency;

  MessageMetrics(Counters& counters, const std::vector<config::ClientConfig>& clients);

  // At bind, or once per record: a lookup (under a shared lock: reloads add clients).
  uint16_t client_index(std::string_view system_id) const;
  // An externally authenticated client (extauth/): its index, made at its first bind while
  // fewer than kMaxExternalClients have one (then "other"), so that a directory of any size
  // cannot grow the number of series without bound.
  static constexpr std::size_t kMaxExternalClients = 1000;
  uint16_t external_client_index(std::string_view system_id);
  // A reloaded configuration's clients: new ones get an index (kept ones keep theirs).
  void add_clients(const std::vector<config::ClientConfig>& clients);
  std::string_view client_name(uint16_t index) const;

  // smppd_messages_total{direction,client,upstream,status}: `status` is the client's answer
  // (mt) or the answer to the SMSC (mo). `upstream_name` is read only the first time.
  void message(Direction d, uint16_t client, uint32_t upstream, std::string_view upstream_name,
               uint32_t status);
  // smppd_receipts_total{upstream,client} and, when its answer's time is known, the time from
  // the message's answer to its receipt.
  void receipt(const MessageRecord& message, uint32_t upstream, std::string_view upstream_name);

  // smppd_route_matches_total{route}: routes are configured, hence bounded.
  void route_matched(std::size_t route, std::string_view name);

  // With storage: smppd_messages_stored_total{client}, smppd_deliveries_stored_total{client}.
  void stored(uint16_t client);
  void delivery_stored(uint16_t client);

  // Milliseconds since this object was made, never 0 (MessageRecord::answered_ms).
  uint32_t now_ms() const;

 private:
  void per_client(uint64_t tag, std::string_view name, uint16_t client);

  Counters& counters_;
  const std::chrono::steady_clock::time_point epoch_ = std::chrono::steady_clock::now();
  mutable std::shared_mutex mutex_;
  std::deque<std::string> names_;  // deque: client_name() views stay valid as it grows
  StringMap<uint16_t> index_;
  std::size_t external_ = 0;  // indexes given to external clients
};

}  // namespace smppd::gateway
