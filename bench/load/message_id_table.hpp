// Message id -> time, for matching delivery receipts with the submit_sm_resp that gave the id.
// Open addressing with linear probing and backward-shift deletion (no tombstones), sized up
// front for the messages expected in flight; it doubles when over half full, which is an
// allocation per doubling, never per message. Keys are 64-bit hashes of the canonical id
// (spaces trimmed, lower case, leading zeros dropped: the forms an SMSC may mix), so an id of
// any length costs nothing to store; two ids colliding among ten million is a 3-in-a-million
// event, and would only cost one receipt counted as missing.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace smppd::bench {

// 64-bit hash of the canonical form of a message id; never 0 (the empty slot).
inline uint64_t message_id_hash(std::string_view id) {
  std::size_t b = 0, e = id.size();
  while (b < e && id[b] == ' ') ++b;
  while (e > b && id[e - 1] == ' ') --e;
  while (b + 1 < e && id[b] == '0') ++b;
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a, then a finaliser to spread the low bits
  for (std::size_t i = b; i < e; ++i) {
    char c = id[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ull;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h == 0 ? 1 : h;
}

class MessageIdTable {
 public:
  explicit MessageIdTable(std::size_t expected = 8) {
    std::size_t cap = 16;
    while (cap < expected * 2) cap <<= 1;
    slots_.assign(cap, Slot{});
  }

  std::size_t size() const { return size_; }

  // The value stored under `key`, removed from the table; false when absent.
  bool take(uint64_t key, uint64_t& value) {
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = key & mask;; i = (i + 1) & mask) {
      if (slots_[i].key == 0) return false;
      if (slots_[i].key == key) {
        value = slots_[i].value;
        erase_at(i);
        return true;
      }
    }
  }

  bool contains(uint64_t key) const {
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = key & mask;; i = (i + 1) & mask) {
      if (slots_[i].key == 0) return false;
      if (slots_[i].key == key) return true;
    }
  }

  // Stores `value` under `key` (replacing an equal key's value).
  void put(uint64_t key, uint64_t value) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = key & mask;; i = (i + 1) & mask) {
      if (slots_[i].key == key) {
        slots_[i].value = value;
        return;
      }
      if (slots_[i].key == 0) {
        slots_[i] = Slot{key, value};
        ++size_;
        return;
      }
    }
  }

  // Calls f(key, value) for every entry.
  template <class F>
  void for_each(F f) const {
    for (const Slot& s : slots_) {
      if (s.key != 0) f(s.key, s.value);
    }
  }

 private:
  struct Slot {
    uint64_t key = 0;
    uint64_t value = 0;
  };

  void erase_at(std::size_t i) {
    const std::size_t mask = slots_.size() - 1;
    // Move back every following entry that the hole would cut off from its home slot.
    for (std::size_t j = (i + 1) & mask; slots_[j].key != 0; j = (j + 1) & mask) {
      const std::size_t home = slots_[j].key & mask;
      // j's probe run starts at `home`; it may move to i when i lies in [home, j) cyclically.
      if (((j - home) & mask) >= ((j - i) & mask)) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = Slot{};
    --size_;
  }

  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    size_ = 0;
    for (const Slot& s : old) {
      if (s.key != 0) put(s.key, s.value);
    }
  }

  std::vector<Slot> slots_;
  std::size_t size_ = 0;
};

}  // namespace smppd::bench
