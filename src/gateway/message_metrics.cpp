#include "gateway/message_metrics.hpp"

#include <array>

#include "smpp/status.hpp"

namespace smppd::gateway {

namespace {
// The families' tags in the high bits of slot_for keys.
enum Tag : uint64_t {
  kMessagesMt = 1,
  kMessagesMo,
  kReceipts,
  kReceiptTimes,
  kStored,
  kDeliveriesStored,
  kRoutes
};

// A command_status as 16 bits: every known value is below 0x400; the vendor range and anything
// else each fold into one value (they share one name, hence one series).
uint64_t status_key(uint32_t status) {
  if (status < 0x400) return status;
  if (status <= 0x4FF) return 0x400;
  return 0xFFFF;
}

uint64_t key(Tag tag, uint64_t a, uint64_t b, uint64_t c = 0) {
  return tag << 56 | (a & 0xFFFF) << 40 | (b & 0xFFFFFF) << 16 | (c & 0xFFFF);
}

constexpr std::array<uint64_t, 12> kReceiptBounds = {
    100, 500, 1'000, 5'000, 10'000, 30'000, 60'000, 300'000, 900'000, 3'600'000,
    21'600'000, 86'400'000};
}  // namespace

const Buckets MessageMetrics::kReceiptLatency{kReceiptBounds, 1e3};

MessageMetrics::MessageMetrics(Counters& counters,
                               const std::vector<config::ClientConfig>& clients)
    : counters_(counters) {
  add_clients(clients);
}

void MessageMetrics::add_clients(const std::vector<config::ClientConfig>& clients) {
  std::unique_lock lock(mutex_);
  for (const auto& c : clients) {
    if (names_.size() >= kOtherClient) break;
    if (index_.emplace(c.system_id, static_cast<uint16_t>(names_.size())).second) {
      names_.push_back(c.system_id);
    }
  }
}

uint16_t MessageMetrics::external_client_index(std::string_view system_id) {
  if (const uint16_t known = client_index(system_id); known != kOtherClient) return known;
  std::unique_lock lock(mutex_);
  if (external_ >= kMaxExternalClients || names_.size() >= kOtherClient) return kOtherClient;
  auto [it, added] = index_.emplace(std::string(system_id), static_cast<uint16_t>(names_.size()));
  if (added) {
    names_.emplace_back(system_id);
    ++external_;
  }
  return it->second;
}

uint16_t MessageMetrics::client_index(std::string_view system_id) const {
  std::shared_lock lock(mutex_);
  auto it = index_.find(system_id);
  return it == index_.end() ? kOtherClient : it->second;
}

std::string_view MessageMetrics::client_name(uint16_t index) const {
  std::shared_lock lock(mutex_);
  return index < names_.size() ? std::string_view(names_[index]) : std::string_view("other");
}

void MessageMetrics::message(Direction d, uint16_t client, uint32_t upstream,
                             std::string_view upstream_name, uint32_t status) {
  const uint64_t k =
      key(d == Direction::mt ? kMessagesMt : kMessagesMo, client, upstream, status_key(status));
  const uint32_t slot = counters_.slot_for(k, [&] {
    return counters_
        .counter("smppd_messages_total", {{"direction", d == Direction::mt ? "mt" : "mo"},
                                          {"client", client_name(client)},
                                          {"upstream", upstream_name},
                                          {"status", smpp::status_name(status)}})
        .slot;
  });
  counters_.add(CounterId{slot});
}

uint32_t MessageMetrics::now_ms() const {
  const auto since = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - epoch_);
  const auto ms = static_cast<uint32_t>(since.count());
  return ms == 0 ? 1 : ms;
}

void MessageMetrics::receipt(const MessageRecord& message, uint32_t upstream,
                             std::string_view upstream_name) {
  const uint16_t client = message.client_index;
  const uint32_t slot = counters_.slot_for(key(kReceipts, client, upstream), [&] {
    return counters_
        .counter("smppd_receipts_total",
                 {{"upstream", upstream_name}, {"client", client_name(client)}})
        .slot;
  });
  counters_.add(CounterId{slot});
  if (message.answered_ms == 0) return;
  // Unsigned: right across the wrap of the 32-bit clock (49 days).
  const uint32_t latency_ms = now_ms() - message.answered_ms;
  const uint32_t hist = counters_.slot_for(key(kReceiptTimes, 0, upstream), [&] {
    return counters_
        .histogram("smppd_message_latency_seconds",
                   {{"upstream", upstream_name}, {"stage", "receipt"}}, kReceiptLatency)
        .slot;
  });
  counters_.observe(HistogramId{hist, hist == 0 ? nullptr : &kReceiptLatency},
                    static_cast<uint64_t>(latency_ms));
}

void MessageMetrics::per_client(uint64_t tag, std::string_view name, uint16_t client) {
  const uint32_t slot = counters_.slot_for(key(static_cast<Tag>(tag), client, 0), [&] {
    return counters_.counter(name, {{"client", client_name(client)}}).slot;
  });
  counters_.add(CounterId{slot});
}

void MessageMetrics::route_matched(std::size_t route, std::string_view name) {
  const uint32_t slot = counters_.slot_for(kRoutes << 56 | route, [&] {
    return counters_.counter("smppd_route_matches_total", {{"route", name}}).slot;
  });
  counters_.add(CounterId{slot});
}

void MessageMetrics::stored(uint16_t client) {
  per_client(kStored, "smppd_messages_stored_total", client);
}

void MessageMetrics::delivery_stored(uint16_t client) {
  per_client(kDeliveriesStored, "smppd_deliveries_stored_total", client);
}

}  // namespace smppd::gateway
