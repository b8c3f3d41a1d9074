#include "gateway/message_map.hpp"

#include <algorithm>
#include <functional>

#include "smpp/receipt.hpp"

namespace smppd::gateway {

namespace {

uint64_t mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

uint64_t key_hash(uint32_t upstream, std::string_view canonical) {
  return mix(std::hash<std::string_view>{}(canonical) ^
             (uint64_t{upstream} * 0x9e3779b97f4a7c15ULL));
}

std::size_t shard_of(uint64_t hash, std::size_t n) {
  return (hash >> 48) % n;
}

// Linear probing's deletion of table[pos]: later entries of the same run move back into the
// hole, so that every lookup still finds its entry before an empty position. `empty(v)` tells
// a free position, `home(v)` where an entry's hash puts it.
template <class T, class Empty, class Home>
void erase_probed(std::vector<T>& table, std::size_t pos, Empty empty, Home home) {
  const std::size_t mask = table.size() - 1;
  std::size_t hole = pos;
  std::size_t next = pos;
  while (true) {
    next = (next + 1) & mask;
    if (empty(table[next])) break;
    const std::size_t at = home(table[next]) & mask;
    // The entry at `next` stays when its home lies cyclically in (hole, next].
    const bool stays = hole <= next ? (hole < at && at <= next) : (hole < at || at <= next);
    if (stays) continue;
    table[hole] = table[next];
    hole = next;
  }
  table[hole] = T{};
}

// Tables stay at most half full.
bool needs_growth(std::size_t used, std::size_t size) {
  return size == 0 || (used + 1) * 2 > size;
}

}  // namespace

// Kept small: the map holds up to 2,000,000 of them.
static_assert(sizeof(MessageRecord) <= 104);

MessageMap::MessageMap(std::size_t max_entries)
    : per_shard_(
          std::clamp<std::size_t>(max_entries / kShards, 1, (std::size_t{1} << kSlotBits) - 1)) {}

uint32_t MessageMap::upstream_index(std::string_view name) {
  std::lock_guard lock(names_mutex_);
  for (std::size_t i = 0; i < names_.size(); ++i) {
    if (names_[i] == name) return static_cast<uint32_t>(i);
  }
  names_.emplace_back(name);
  return static_cast<uint32_t>(names_.size() - 1);
}

long MessageMap::find_locked(const Shard& shard, uint64_t hash, uint32_t upstream,
                             std::string_view canonical) {
  if (shard.table.empty()) return -1;
  const std::size_t mask = shard.table.size() - 1;
  smpp::CanonicalIdBuffer buffer;
  for (std::size_t pos = hash & mask;; pos = (pos + 1) & mask) {
    const uint32_t v = shard.table[pos];
    if (v == kEmpty) return -1;
    const uint32_t slot = v - 1;
    if (shard.hashes[slot] != hash) continue;
    const MessageRecord& r = shard.ring[slot];
    if (r.upstream == upstream &&
        smpp::canonical_message_id(r.smsc_id.view(), buffer) == canonical) {
      return static_cast<long>(pos);
    }
  }
}

void MessageMap::insert_locked(Shard& shard, uint32_t slot) {
  if (needs_growth(shard.used, shard.table.size())) {
    std::vector<uint32_t> old;
    old.swap(shard.table);
    shard.table.assign(std::max<std::size_t>(64, old.size() * 2), kEmpty);
    shard.used = 0;
    for (uint32_t v : old) {
      if (v != kEmpty) insert_locked(shard, v - 1);
    }
  }
  const std::size_t mask = shard.table.size() - 1;
  std::size_t pos = shard.hashes[slot] & mask;
  while (shard.table[pos] != kEmpty) pos = (pos + 1) & mask;
  shard.table[pos] = slot + 1;
  ++shard.used;
}

void MessageMap::erase_locked(Shard& shard, std::size_t pos) {
  erase_probed(
      shard.table, pos, [](uint32_t v) { return v == kEmpty; },
      [&shard](uint32_t v) { return shard.hashes[v - 1]; });
  --shard.used;
}

void MessageMap::id_put(IdShard& s, uint64_t id, uint32_t where) {
  if (needs_growth(s.used, s.table.size())) {
    std::vector<IdEntry> old;
    old.swap(s.table);
    s.table.assign(std::max<std::size_t>(64, old.size() * 2), IdEntry{});
    s.used = 0;
    for (const IdEntry& e : old) {
      if (e.id != 0) id_put(s, e.id, e.where);
    }
  }
  const std::size_t mask = s.table.size() - 1;
  for (std::size_t pos = mix(id) & mask;; pos = (pos + 1) & mask) {
    IdEntry& e = s.table[pos];
    if (e.id == id) {
      e.where = where;
      return;
    }
    if (e.id == 0) {
      e = IdEntry{id, where};
      ++s.used;
      return;
    }
  }
}

const MessageMap::IdEntry* MessageMap::id_find(const IdShard& s, uint64_t id) {
  if (s.table.empty() || id == 0) return nullptr;
  const std::size_t mask = s.table.size() - 1;
  for (std::size_t pos = mix(id) & mask;; pos = (pos + 1) & mask) {
    const IdEntry& e = s.table[pos];
    if (e.id == id) return &e;
    if (e.id == 0) return nullptr;
  }
}

void MessageMap::id_erase(IdShard& s, const IdEntry* entry) {
  erase_probed(
      s.table, static_cast<std::size_t>(entry - s.table.data()),
      [](const IdEntry& e) { return e.id == 0; }, [](const IdEntry& e) { return mix(e.id); });
  --s.used;
}

void MessageMap::add(const MessageRecord& record) {
  smpp::CanonicalIdBuffer buffer;
  const std::string_view canonical = smpp::canonical_message_id(record.smsc_id.view(), buffer);
  const uint64_t hash = key_hash(record.upstream, canonical);
  const std::size_t shard_index = shard_of(hash, kShards);
  Shard& shard = shards_[shard_index];
  // The id table is updated under the shard's lock too (then the id shard's: always in that
  // order, and find_by_id never holds both), so that two adds to one slot cannot leave an id
  // behind that points at a slot it lost.
  std::lock_guard lock(shard.mutex);
  uint64_t dropped_id = 0;  // a record forgotten (the oldest) or replaced (the same SMSC id)
  uint32_t slot;
  const long existing = find_locked(shard, hash, record.upstream, canonical);
  if (existing >= 0) {
    // The SMSC gave an id again: the newer message takes it; the older one's id goes. The slot
    // keeps its place in the ring, so the newer record is forgotten as early as the older
    // would have been (a repeated id is rare and already ambiguous).
    slot = shard.table[static_cast<std::size_t>(existing)] - 1;
    if (shard.ring[slot].id != record.id) dropped_id = shard.ring[slot].id;
    shard.ring[slot] = record;
  } else {
    if (shard.ring.size() < per_shard_) {
      slot = static_cast<uint32_t>(shard.ring.size());
      shard.ring.push_back(record);
      shard.hashes.push_back(hash);
    } else {
      // Full: the oldest record gives its slot.
      slot = static_cast<uint32_t>(shard.oldest);
      shard.oldest = (shard.oldest + 1) % per_shard_;
      const MessageRecord& old = shard.ring[slot];
      smpp::CanonicalIdBuffer old_buffer;
      const long pos = find_locked(shard, shard.hashes[slot], old.upstream,
                                   smpp::canonical_message_id(old.smsc_id.view(), old_buffer));
      if (pos >= 0) erase_locked(shard, static_cast<std::size_t>(pos));
      dropped_id = old.id;
      shard.ring[slot] = record;
      shard.hashes[slot] = hash;
    }
    insert_locked(shard, slot);
  }
  const uint32_t where = static_cast<uint32_t>(shard_index << kSlotBits) | slot;
  if (dropped_id != 0) {
    IdShard& ids = ids_[dropped_id % kShards];
    std::lock_guard id_lock(ids.mutex);
    const IdEntry* e = id_find(ids, dropped_id);
    if (e != nullptr && e->where == where) id_erase(ids, e);
  }
  IdShard& ids = ids_[record.id % kShards];
  std::lock_guard id_lock(ids.mutex);
  id_put(ids, record.id, where);
}

std::optional<MessageRecord> MessageMap::find_by_smsc_id(uint32_t upstream,
                                                         std::string_view smsc_id, IdMatch match,
                                                         bool* converted) const {
  auto look = [&](std::string_view key, bool conversion) -> std::optional<MessageRecord> {
    const uint64_t hash = key_hash(upstream, key);
    const Shard& shard = shards_[shard_of(hash, kShards)];
    std::lock_guard lock(shard.mutex);
    const long pos = find_locked(shard, hash, upstream, key);
    if (pos < 0) return std::nullopt;
    const MessageRecord& r = shard.ring[shard.table[static_cast<std::size_t>(pos)] - 1];
    if (conversion && r.final_receipt) return std::nullopt;
    if (converted != nullptr) *converted = conversion;
    return r;
  };
  smpp::CanonicalIdBuffer buffer;
  const std::string_view canonical = smpp::canonical_message_id(smsc_id, buffer);
  if (canonical.empty()) return std::nullopt;
  if (auto r = look(canonical, false)) return r;
  if (match == IdMatch::exact) return std::nullopt;
  const smpp::MessageIdKeys keys = smpp::message_id_keys(smsc_id);
  for (std::size_t i = 1; i < keys.size(); ++i) {
    if (auto r = look(keys[i], true)) return r;
  }
  return std::nullopt;
}

void MessageMap::mark_final_receipt(const MessageRecord& record) {
  smpp::CanonicalIdBuffer buffer;
  const std::string_view canonical = smpp::canonical_message_id(record.smsc_id.view(), buffer);
  const uint64_t hash = key_hash(record.upstream, canonical);
  Shard& shard = shards_[shard_of(hash, kShards)];
  std::lock_guard lock(shard.mutex);
  const long pos = find_locked(shard, hash, record.upstream, canonical);
  if (pos < 0) return;
  MessageRecord& r = shard.ring[shard.table[static_cast<std::size_t>(pos)] - 1];
  if (r.id == record.id) r.final_receipt = true;
}

std::optional<MessageRecord> MessageMap::find_by_id(uint64_t id) const {
  uint32_t where;
  {
    const IdShard& ids = ids_[id % kShards];
    std::lock_guard lock(ids.mutex);
    const IdEntry* e = id_find(ids, id);
    if (e == nullptr) return std::nullopt;
    where = e->where;
  }
  const Shard& shard = shards_[where >> kSlotBits];
  const uint32_t slot = where & ((1u << kSlotBits) - 1);
  std::lock_guard lock(shard.mutex);
  // The slot may have been given to a newer record since: it must still be this message.
  if (slot >= shard.ring.size() || shard.ring[slot].id != id) return std::nullopt;
  return shard.ring[slot];
}

namespace {
// The entries in use over a set of shards, each counted under its lock.
template <class Shards>
std::size_t used_in(const Shards& shards) {
  std::size_t n = 0;
  for (const auto& s : shards) {
    std::lock_guard lock(s.mutex);
    n += s.used;
  }
  return n;
}
}  // namespace

std::size_t MessageMap::size() const { return used_in(shards_); }

std::size_t MessageMap::id_index_size() const { return used_in(ids_); }

}  // namespace smppd::gateway
