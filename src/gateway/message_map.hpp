// Which client and smppd id a message of an SMSC belongs to, so that its delivery receipt goes
// back to the client that sent it with smppd's id. Sharded: each shard has its own lock, and a
// lookup touches one shard per key, so no lock is shared by all sessions.
//
// Bounded: each shard forgets its oldest entries beyond its share of `max_entries` (a receipt
// that comes after that is reported as unmatched). Kept in memory only until the store exists.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "smpp/version.hpp"

namespace smppd::gateway {

struct MessageRecord {
  uint64_t id = 0;       // smppd's
  std::string client;    // system_id that submitted it
  std::string upstream;  // the upstream that took it
  std::string smsc_id;   // the upstream's id, as given in its response
  smpp::Version client_version = smpp::Version::v34;
  bool final_receipt = false;  // a receipt with a final state was matched to it
};

// How a receipt's id may be compared with the ids of responses.
enum class IdMatch : uint8_t {
  exact,     // the same id (after trimming, case and leading zeros)
  tolerant,  // also its hex/decimal conversions — never to a message that already had its
             // final receipt, where a conversion would most likely name another message
};

class MessageMap {
 public:
  explicit MessageMap(std::size_t max_entries = 2'000'000);

  void add(const MessageRecord& record);
  // By the id an upstream gives in a receipt, tolerant of hex/decimal, case and leading zeros
  // (smpp::message_id_keys).
  // `converted` (when given) says whether a hex/decimal conversion matched.
  std::optional<MessageRecord> find_by_smsc_id(std::string_view upstream, std::string_view smsc_id,
                                               IdMatch match = IdMatch::tolerant,
                                               bool* converted = nullptr) const;
  // Notes that the message had its final receipt.
  void mark_final_receipt(const MessageRecord& record);
  std::optional<MessageRecord> find_by_id(uint64_t id) const;
  std::size_t size() const;

 private:
  // Records by "upstream\0canonical SMSC id".
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, MessageRecord> by_smsc;
    std::deque<std::string> order;  // oldest first
  };
  // smppd id -> the key above.
  struct IdShard {
    mutable std::mutex mutex;
    std::unordered_map<uint64_t, std::string> keys;
  };
  static constexpr std::size_t kShards = 16;

  std::size_t per_shard_;
  std::array<Shard, kShards> shards_;
  std::array<IdShard, kShards> ids_;
};

}  // namespace smppd::gateway
