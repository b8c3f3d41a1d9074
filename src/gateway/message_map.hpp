// Which client and smppd id a message of an SMSC belongs to, so that its delivery receipt goes
// back to the client that sent it with smppd's id. Sharded: each shard has its own lock, and a
// lookup touches one shard per key, so no lock is shared by all sessions.
//
// Allocation-free per message: records live in a ring per shard (the slots are allocated as the
// ring first fills, then reused), found through open-addressing tables of slot numbers; ids and
// names are kept inline. Bounded: each shard forgets its oldest record beyond its share of
// `max_entries` (a receipt that comes after that is reported as unmatched). Kept in memory only
// until the store exists.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smpp/pdu.hpp"
#include "smpp/version.hpp"

namespace smppd::gateway {

struct MessageRecord {
  uint64_t id = 0;          // smppd's
  smpp::CStr<16> client;    // system_id that submitted it
  // (Fields ordered so that the record stays 104 bytes: 2,000,000 of them by default.)
  bool traced = false;             // sampled for tracing: its trace is in MessageTraces
  uint16_t client_index = 0xFFFF;  // MessageMetrics::client_index
  uint32_t upstream = 0;    // the upstream that took it (MessageMap::upstream_index)
  smpp::MessageId smsc_id;  // the upstream's id, as given in its response
  smpp::Version client_version = smpp::Version::v34;
  bool final_receipt = false;  // a receipt with a final state was matched to it
  // When it was answered, in milliseconds on MessageMetrics' clock (0: unknown): for the time
  // from submit to receipt.
  uint32_t answered_ms = 0;
};

// How a receipt's id may be compared with the ids of responses.
enum class IdMatch : uint8_t {
  exact,     // the same id (after trimming, case and leading zeros)
  tolerant,  // also its hex/decimal conversions — never to a message that already had its
             // final receipt, where a conversion would most likely name another message
};

class MessageMap {
 public:
  // Many small shards rather than a few big ones: a shard's table doubles (and is rebuilt)
  // while it fills, and a small one is rebuilt in about a hundred microseconds — no message
  // waits behind a rebuild of millions of entries.
  static constexpr std::size_t kShards = 256;

  explicit MessageMap(std::size_t max_entries = 2'000'000);

  // The number records name an upstream by; the same name always gets the same number. Called
  // when an upstream starts, not per message.
  uint32_t upstream_index(std::string_view name);

  void add(const MessageRecord& record);
  // By the id an upstream gives in a receipt, tolerant of hex/decimal, case and leading zeros
  // (smpp::message_id_keys).
  // `converted` (when given) says whether a hex/decimal conversion matched.
  std::optional<MessageRecord> find_by_smsc_id(uint32_t upstream, std::string_view smsc_id,
                                               IdMatch match = IdMatch::tolerant,
                                               bool* converted = nullptr) const;
  // Notes that the message had its final receipt.
  void mark_final_receipt(const MessageRecord& record);
  std::optional<MessageRecord> find_by_id(uint64_t id) const;
  std::size_t size() const;
  // Entries of the smppd-id index: equal to size() whenever no add is under way.
  std::size_t id_index_size() const;

 private:
  static constexpr uint32_t kEmpty = 0;
  static constexpr uint32_t kSlotBits =
      24;  // IdEntry::where = shard << kSlotBits | slot  // in the tables: slot + 1, or 0

  // Records by (upstream, canonical SMSC id).
  struct Shard {
    mutable std::mutex mutex;
    std::vector<MessageRecord> ring;  // grows to the shard's capacity, then is reused
    std::vector<uint64_t> hashes;     // the key hash of each ring slot
    std::size_t oldest = 0;           // once full: the slot to reuse next
    std::vector<uint32_t> table;      // open addressing, linear probing; size a power of two
    std::size_t used = 0;             // records in the table
  };
  // smppd id -> (shard, slot).
  struct IdEntry {
    uint64_t id = 0;  // 0: empty (smppd ids are never 0)
    uint32_t where = 0;
  };
  struct IdShard {
    mutable std::mutex mutex;
    std::vector<IdEntry> table;
    std::size_t used = 0;
  };

  // With shard.mutex held: the table position holding the record with this key, or -1.
  static long find_locked(const Shard& shard, uint64_t hash, uint32_t upstream,
                          std::string_view canonical);
  static void insert_locked(Shard& shard, uint32_t slot);
  static void erase_locked(Shard& shard, std::size_t pos);
  static void id_put(IdShard& s, uint64_t id, uint32_t where);
  static void id_erase(IdShard& s, const IdEntry* entry);  // an entry id_find gave
  static const IdEntry* id_find(const IdShard& s, uint64_t id);

  std::size_t per_shard_;
  std::array<Shard, kShards> shards_;
  std::array<IdShard, kShards> ids_;
  std::mutex names_mutex_;
  std::deque<std::string> names_;  // by upstream index
};

}  // namespace smppd::gateway
