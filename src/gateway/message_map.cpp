#include "gateway/message_map.hpp"

#include <functional>

#include "smpp/receipt.hpp"

namespace smppd::gateway {

namespace {
std::string key_of(std::string_view upstream, std::string_view canonical) {
  std::string k;
  k.reserve(upstream.size() + 1 + canonical.size());
  k.append(upstream);
  k.push_back('\0');
  k.append(canonical);
  return k;
}
std::size_t shard_of(std::string_view key, std::size_t n) {
  return std::hash<std::string_view>{}(key) % n;
}
}  // namespace

MessageMap::MessageMap(std::size_t max_entries)
    : per_shard_(std::max<std::size_t>(1, max_entries / kShards)) {}

void MessageMap::add(const MessageRecord& record) {
  std::string key = key_of(record.upstream, smpp::canonical_message_id(record.smsc_id));
  std::string evicted_key;
  uint64_t evicted_id = 0;
  bool evicted = false;
  uint64_t replaced_id = 0;
  bool replaced = false;
  {
    Shard& shard = shards_[shard_of(key, kShards)];
    std::lock_guard lock(shard.mutex);
    auto found = shard.by_smsc.find(key);
    if (found != shard.by_smsc.end()) {
      // The SMSC gave an id again: the newer message takes it; the older one's id goes.
      replaced_id = found->second.id;
      replaced = found->second.id != record.id;
      found->second = record;
    } else {
      shard.by_smsc.emplace(key, record);
      shard.order.push_back(key);
    }
    if (shard.order.size() > per_shard_) {
      evicted_key = std::move(shard.order.front());
      shard.order.pop_front();
      auto old = shard.by_smsc.find(evicted_key);
      if (old != shard.by_smsc.end()) {
        evicted_id = old->second.id;
        evicted = true;
        shard.by_smsc.erase(old);
      }
    }
  }
  if (evicted) {
    IdShard& ids = ids_[evicted_id % kShards];
    std::lock_guard lock(ids.mutex);
    ids.keys.erase(evicted_id);
  }
  if (replaced) {
    IdShard& ids = ids_[replaced_id % kShards];
    std::lock_guard lock(ids.mutex);
    ids.keys.erase(replaced_id);
  }
  IdShard& ids = ids_[record.id % kShards];
  std::lock_guard lock(ids.mutex);
  ids.keys[record.id] = std::move(key);
}

std::optional<MessageRecord> MessageMap::find_by_smsc_id(std::string_view upstream,
                                                         std::string_view smsc_id, IdMatch match,
                                                         bool* converted) const {
  const smpp::MessageIdKeys keys = smpp::message_id_keys(smsc_id);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (i > 0 && match == IdMatch::exact) break;
    const std::string key = key_of(upstream, keys[i]);
    const Shard& shard = shards_[shard_of(key, kShards)];
    std::lock_guard lock(shard.mutex);
    auto it = shard.by_smsc.find(key);
    if (it == shard.by_smsc.end()) continue;
    if (i > 0 && it->second.final_receipt) continue;
    if (converted != nullptr) *converted = i > 0;
    return it->second;
  }
  return std::nullopt;
}

void MessageMap::mark_final_receipt(const MessageRecord& record) {
  const std::string key = key_of(record.upstream, smpp::canonical_message_id(record.smsc_id));
  Shard& shard = shards_[shard_of(key, kShards)];
  std::lock_guard lock(shard.mutex);
  auto it = shard.by_smsc.find(key);
  if (it != shard.by_smsc.end()) it->second.final_receipt = true;
}

std::optional<MessageRecord> MessageMap::find_by_id(uint64_t id) const {
  std::string key;
  {
    const IdShard& ids = ids_[id % kShards];
    std::lock_guard lock(ids.mutex);
    auto it = ids.keys.find(id);
    if (it == ids.keys.end()) return std::nullopt;
    key = it->second;
  }
  const Shard& shard = shards_[shard_of(key, kShards)];
  std::lock_guard lock(shard.mutex);
  auto it = shard.by_smsc.find(key);
  if (it == shard.by_smsc.end()) return std::nullopt;
  return it->second;
}

std::size_t MessageMap::size() const {
  std::size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard lock(s.mutex);
    n += s.by_smsc.size();
  }
  return n;
}

}  // namespace smppd::gateway
