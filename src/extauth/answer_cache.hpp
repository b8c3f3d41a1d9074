// What the external backends answered, remembered: accepts for the answering backend's
// cache_ttl, refusals for auth.negative_ttl, and accepts kept auth.stale_ttl longer for when
// every backend fails. Keyed by a keyed hash (HMAC-SHA256 under a key made at start) of the
// system_id, the password, the peer's address and the bind type: the password is never kept,
// and a hit needs all four to be the same. Bounded: past max_entries the entry stored longest
// ago is forgotten. Time is passed in. Thread safe (one mutex). Pure.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace smppd::extauth {

class AnswerCache {
 public:
  using Clock = std::chrono::steady_clock;
  using Key = std::array<uint8_t, 32>;

  struct Entry {
    std::shared_ptr<const config::ClientConfig> client;  // null: refused
    std::string_view reason;   // refused: auth::reason's unknown_system_id or wrong_password
    std::string backend;       // which backend answered
    Clock::time_point fresh_until;
    Clock::time_point keep_until;  // >= fresh_until: as a stale accept
  };

  explicit AnswerCache(std::size_t max_entries);

  Key key(std::string_view system_id, std::string_view password, std::span<const uint8_t> peer,
          config::BindType bind_type) const;

  // A fresh entry (now < fresh_until), or with `stale` one still kept, as a copy.
  std::optional<Entry> find(const Key& key, Clock::time_point now, bool stale) const;
  void put(const Key& key, Entry entry);
  void clear();
  // At most `max_entries` from now on (the oldest go first).
  void limit(std::size_t max_entries);
  std::size_t size() const;

 private:
  std::array<uint8_t, 32> secret_{};
  std::size_t max_;
  mutable std::mutex mutex_;
  std::list<Key> order_;  // oldest first
  struct Slot {
    Entry entry;
    std::list<Key>::iterator at;
  };
  std::map<Key, Slot> entries_;
};

}  // namespace smppd::extauth
