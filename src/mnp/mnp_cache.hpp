// The cache of number portability answers: E.164 number -> the network that serves it (mcc, mnc,
// ported), each until its expiry, in a memory bound fixed when it is made.
//
// Made for 10 million numbers. One 16-byte slot per entry in open-addressing tables (linear
// probing, at most 70 % full, so about 23 bytes per entry in all), split into shards of their own
// lock so that threads looking up different numbers rarely meet. The whole table is allocated
// once, zeroed by the kernel as it is touched, and never grows: memory_bytes() is the bound.
//
//   slot.key   : the number's digits as an integer (bits 0-49; 15 digits < 10^15 < 2^50), their
//                count (bits 50-53), so "0123" and "123" differ, and the generation the entry
//                was last read or written in (bits 54-63); 0 marks an empty slot
//   slot.value : expiry in ms after the cache's epoch (bits 0-39: 34 years), mcc (40-49),
//                mnc (50-59), a 3-digit mnc (60), ported (61), a remembered failure (62)
//
// Expiry is checked on read: an expired entry is a miss, and is removed then. When a shard is
// full, an insert evicts one entry near its own home slot: of the first 8 entries from there, one
// that has expired, else the one read or written longest ago (sampled LRU: the age is counted in
// generations of 1/64 of the shard's entries written), else the one that expires first. A number
// that is read stays; numbers seen once push out each other and what has expired. Entries are
// removed by backward shifting (no tombstones), so a table that churns for months probes as
// short as a fresh one. (Why not CLOCK: mnp_cache.cpp, evict_near.)
//
// Pure: no sockets, no logging. Thread safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "mnp/network.hpp"

namespace smppd::mnp {

// An E.164 number (an optional '+', then 1 to 15 digits) as the cache's key; std::nullopt for
// anything else (spaces, letters, 16 digits or more). "+258841234567" and "258841234567" are the
// same key.
std::optional<uint64_t> pack_number(std::string_view e164);
// The digits of a packed number (without '+').
std::string unpack_number(uint64_t key);

class MnpCache {
 public:
  using Clock = std::chrono::steady_clock;

  struct Hit {
    Network network;      // meaningless when failed
    bool failed = false;  // a remembered failure (put_failure): route as not ported
  };

  struct Stats {
    uint64_t hits = 0;
    uint64_t misses = 0;   // expired entries included
    uint64_t expired = 0;  // entries found expired on read, or evicted for having expired
    uint64_t evicted = 0;  // live entries evicted to make room (expired ones count as expired)
    uint64_t inserted = 0;
    uint64_t replaced = 0;  // puts that replaced an entry of the same number
  };

  // At most `max_entries` (at least 1) entries. Expiry times are kept relative to `epoch`.
  explicit MnpCache(std::size_t max_entries, Clock::time_point epoch = Clock::now());
  ~MnpCache();
  MnpCache(const MnpCache&) = delete;
  MnpCache& operator=(const MnpCache&) = delete;

  // The entry of a packed number if it is there and has not expired at `now`.
  std::optional<Hit> find(uint64_t number, Clock::time_point now);
  // Remembers `network` for `ttl` from `now`, in place of what the number had.
  void put(uint64_t number, const Network& network, Clock::time_point now, Clock::duration ttl);
  // Remembers that the lookup of the number failed, for `ttl` from `now`.
  void put_failure(uint64_t number, Clock::time_point now, Clock::duration ttl);
  // Forgets one number; true when it was there.
  bool erase(uint64_t number);
  void clear();

  // Entries held (expired ones not yet removed included).
  std::size_t size() const;
  std::size_t max_entries() const { return max_entries_; }
  std::size_t slots() const { return slots_; }
  std::size_t shards() const { return shard_count_; }
  // What the cache holds in memory, allocated at construction and never more: the slots, the
  // shards and this object.
  std::size_t memory_bytes() const;
  Stats stats() const;

 private:
  struct Shard;

  Shard& shard_of(uint64_t hash) const;
  void store(uint64_t number, uint64_t value, Clock::time_point now);
  uint64_t expiry_of(Clock::time_point now, Clock::duration ttl) const;
  uint64_t now_ms(Clock::time_point now) const;

  const Clock::time_point epoch_;
  const std::size_t max_entries_;
  std::size_t shard_count_ = 1;
  std::size_t slots_ = 0;
  std::unique_ptr<Shard[]> shards_;
  struct FreeSlots {
    void operator()(void* p) const;
  };
  std::unique_ptr<void, FreeSlots> memory_;
};

}  // namespace smppd::mnp
