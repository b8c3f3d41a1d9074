#include "mnp/mnp_cache.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>

namespace smppd::mnp {

namespace {

__extension__ using u128 = unsigned __int128;

constexpr int kLengthShift = 50;
constexpr std::size_t kMaxDigits = 15;
constexpr uint64_t kNumberMask = (uint64_t{1} << 54) - 1;  // digits and their count
constexpr int kGenerationShift = 54;
constexpr uint64_t kGenerationMask = 0x3FF;  // 10 bits

constexpr uint64_t kExpiryMask = (uint64_t{1} << 40) - 1;
constexpr int kMccShift = 40;
constexpr int kMncShift = 50;
constexpr uint64_t kTenBits = 0x3FF;
constexpr uint64_t kMncThreeDigits = uint64_t{1} << 60;
constexpr uint64_t kPorted = uint64_t{1} << 61;
constexpr uint64_t kFailed = uint64_t{1} << 62;

// A shard is at most this full: linear probing's misses stay short (about 6 slots on average).
constexpr std::size_t kLoadNumerator = 7;
constexpr std::size_t kLoadDenominator = 10;
// Shards: up to 64, each with at least this many entries (a small cache is one shard, so that
// max_entries holds exactly rather than per shard).
constexpr std::size_t kMaxShards = 64;
constexpr std::size_t kMinEntriesPerShard = 4096;
// Eviction looks at this many entries from the new entry's home, within this many slots (more
// only when it has found none).
constexpr std::size_t kEvictionSample = 8;
constexpr std::size_t kEvictionScan = 32;
// A generation lasts this fraction of a shard's entries in writes: an entry's age is counted in
// generations, 1024 of them (16 times the shard's entries written) before the count wraps.
constexpr std::size_t kGenerationsPerShard = 64;

struct Slot {
  uint64_t key;  // the number (kNumberMask) and its generation; 0: empty
  uint64_t value;
};
static_assert(sizeof(Slot) == 16);

// splitmix64's finaliser: every bit of the number moves every bit of the hash.
uint64_t mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ULL;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBULL;
  x ^= x >> 31;
  return x;
}

uint64_t encode(const Network& n) {
  uint64_t v = (uint64_t{n.mcc} & kTenBits) << kMccShift | (uint64_t{n.mnc} & kTenBits)
                                                               << kMncShift;
  if (n.mnc_three_digits) v |= kMncThreeDigits;
  if (n.ported) v |= kPorted;
  return v;
}

MnpCache::Hit decode(uint64_t v) {
  MnpCache::Hit hit;
  hit.failed = (v & kFailed) != 0;
  hit.network.mcc = static_cast<uint16_t>(v >> kMccShift & kTenBits);
  hit.network.mnc = static_cast<uint16_t>(v >> kMncShift & kTenBits);
  hit.network.mnc_three_digits = (v & kMncThreeDigits) != 0;
  hit.network.ported = (v & kPorted) != 0;
  return hit;
}

}  // namespace

std::optional<uint64_t> pack_number(std::string_view e164) {
  if (!e164.empty() && e164.front() == '+') e164.remove_prefix(1);
  if (e164.empty() || e164.size() > kMaxDigits) return std::nullopt;
  uint64_t value = 0;
  for (char c : e164) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  return value | static_cast<uint64_t>(e164.size()) << kLengthShift;
}

std::string unpack_number(uint64_t key) {
  const auto length = static_cast<std::size_t>(key >> kLengthShift & 0xF);
  uint64_t value = key & ((uint64_t{1} << kLengthShift) - 1);
  std::string digits(length, '0');
  for (std::size_t i = length; i > 0; --i) {
    digits[i - 1] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return digits;
}

// One lock and one table. Aligned so that two shards' locks never share a cache line.
struct alignas(64) MnpCache::Shard {
  mutable std::mutex mutex;
  Slot* slots = nullptr;
  std::size_t capacity = 0;
  std::size_t max_entries = 0;
  std::size_t size = 0;
  uint64_t generation = 0;
  std::size_t generation_writes = 0;  // since the generation began
  std::size_t generation_length = 1;  // writes
  Stats stats;

  std::size_t home(uint64_t hash) const {
    // The high bits pick the slot (the low ones picked the shard): no modulo, no power of two.
    return static_cast<std::size_t>(static_cast<u128>(hash) * capacity >> 64);
  }
  std::size_t next(std::size_t i) const { return i + 1 == capacity ? 0 : i + 1; }

  // The number's key, stamped with the generation it was last read or written in.
  uint64_t stamped(uint64_t number) const {
    return number | (generation & kGenerationMask) << kGenerationShift;
  }
  uint64_t age(const Slot& slot) const {
    return (generation - (slot.key >> kGenerationShift)) & kGenerationMask;
  }
  void count_write() {
    if (++generation_writes < generation_length) return;
    generation_writes = 0;
    ++generation;
  }

  // Removes the entry at i and shifts the entries after it that may move closer to their home,
  // so that every entry stays reachable from its home without tombstones.
  void erase_at(std::size_t i) {
    for (std::size_t j = next(i);; j = next(j)) {
      const Slot& moving = slots[j];
      if (moving.key == 0) break;
      const std::size_t k = home(mix(moving.key & kNumberMask));
      // It stays when its home lies cyclically in (i, j]: moving it to i would put it before it.
      const bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
      if (stays) continue;
      slots[i] = moving;
      i = j;
    }
    slots[i] = Slot{0, 0};
    --size;
  }

  // Makes room for an entry whose home is `from`: of the first kEvictionSample entries from
  // there, the first that has expired, else the one read or written longest ago, else (of
  // those as old) the one that expires first. The shard is full, so it holds one at least.
  //
  // Not CLOCK: a hand that sweeps the slots in order takes the entries behind it and leaves the
  // slots ahead of it to take every new entry, until they are full and probes there run for
  // thousands of slots (measured, a million entries in 64 shards: puts went from 0.06 us to
  // 2-12 us each while the hand made its first turn).
  // Taking the victim where the new entry goes keeps the table as evenly full as its hash.
  void evict_near(std::size_t from, uint64_t now_ms) {
    std::size_t victim = capacity;
    uint64_t victim_age = 0;
    uint64_t victim_expiry = 0;
    std::size_t sampled = 0;
    for (std::size_t i = from, scanned = 0;; i = next(i), ++scanned) {
      if (scanned >= kEvictionScan && victim != capacity) break;
      const Slot& slot = slots[i];
      if (slot.key == 0) continue;
      const uint64_t expiry = slot.value & kExpiryMask;
      if (expiry <= now_ms) {
        erase_at(i);
        ++stats.expired;
        return;
      }
      const uint64_t a = age(slot);
      if (victim == capacity || a > victim_age || (a == victim_age && expiry < victim_expiry)) {
        victim = i;
        victim_age = a;
        victim_expiry = expiry;
      }
      if (++sampled == kEvictionSample) break;
    }
    erase_at(victim);
    ++stats.evicted;
  }
};

MnpCache::MnpCache(std::size_t max_entries, Clock::time_point epoch)
    : epoch_(epoch), max_entries_(std::max<std::size_t>(1, max_entries)) {
  while (shard_count_ < kMaxShards && max_entries_ / (shard_count_ * 2) >= kMinEntriesPerShard)
    shard_count_ *= 2;
  shards_ = std::make_unique<Shard[]>(shard_count_);
  const std::size_t base = max_entries_ / shard_count_;
  const std::size_t extra = max_entries_ % shard_count_;
  for (std::size_t i = 0; i < shard_count_; ++i) {
    Shard& s = shards_[i];
    s.max_entries = base + (i < extra ? 1 : 0);
    // Room for an empty slot whatever the load: a probe always ends.
    s.capacity = s.max_entries * kLoadDenominator / kLoadNumerator + 2;
    s.generation_length = std::max<std::size_t>(1, s.max_entries / kGenerationsPerShard);
    slots_ += s.capacity;
  }
  // calloc: the kernel hands out zeroed pages as they are first touched, so a cache that stays
  // small costs little resident memory; the bound is reserved all the same.
  void* memory = std::calloc(slots_, sizeof(Slot));
  if (memory == nullptr) throw std::bad_alloc();
  memory_.reset(memory);
  Slot* next = static_cast<Slot*>(memory);
  for (std::size_t i = 0; i < shard_count_; ++i) {
    shards_[i].slots = next;
    next += shards_[i].capacity;
  }
}

MnpCache::~MnpCache() = default;

void MnpCache::FreeSlots::operator()(void* p) const {
  std::free(p);
}

MnpCache::Shard& MnpCache::shard_of(uint64_t hash) const {
  return shards_[hash & (shard_count_ - 1)];
}

uint64_t MnpCache::now_ms(Clock::time_point now) const {
  if (now <= epoch_) return 0;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - epoch_).count();
  return std::min<uint64_t>(static_cast<uint64_t>(ms), kExpiryMask);
}

uint64_t MnpCache::expiry_of(Clock::time_point now, Clock::duration ttl) const {
  const uint64_t start = now_ms(now);
  if (ttl <= Clock::duration::zero()) return start;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(ttl).count();
  return std::min<uint64_t>(start + std::min<uint64_t>(static_cast<uint64_t>(ms), kExpiryMask),
                            kExpiryMask);
}

std::optional<MnpCache::Hit> MnpCache::find(uint64_t number, Clock::time_point now) {
  if (number == 0 || (number & ~kNumberMask) != 0) return std::nullopt;
  const uint64_t hash = mix(number);
  Shard& s = shard_of(hash);
  const uint64_t t = now_ms(now);
  std::lock_guard lock(s.mutex);
  for (std::size_t i = s.home(hash);; i = s.next(i)) {
    Slot& slot = s.slots[i];
    if (slot.key == 0) break;
    if ((slot.key & kNumberMask) != number) continue;
    if ((slot.value & kExpiryMask) <= t) {
      s.erase_at(i);
      ++s.stats.expired;
      break;
    }
    slot.key = s.stamped(number);
    ++s.stats.hits;
    return decode(slot.value);
  }
  ++s.stats.misses;
  return std::nullopt;
}

void MnpCache::put(uint64_t number, const Network& network, Clock::time_point now,
                   Clock::duration ttl) {
  store(number, encode(network) | expiry_of(now, ttl), now);
}

void MnpCache::put_failure(uint64_t number, Clock::time_point now, Clock::duration ttl) {
  store(number, kFailed | expiry_of(now, ttl), now);
}

void MnpCache::store(uint64_t number, uint64_t value, Clock::time_point now) {
  if (number == 0 || (number & ~kNumberMask) != 0) return;
  const uint64_t hash = mix(number);
  Shard& s = shard_of(hash);
  const uint64_t t = now_ms(now);
  std::lock_guard lock(s.mutex);
  const std::size_t home = s.home(hash);
  s.count_write();
  std::size_t i = home;
  for (; s.slots[i].key != 0; i = s.next(i)) {
    if ((s.slots[i].key & kNumberMask) == number) {
      s.slots[i] = Slot{s.stamped(number), value};
      ++s.stats.replaced;
      return;
    }
  }
  if (s.size >= s.max_entries) {
    s.evict_near(home, t);
    // The eviction may have shifted entries: the first empty slot from home again.
    for (i = home; s.slots[i].key != 0; i = s.next(i)) {
    }
  }
  s.slots[i] = Slot{s.stamped(number), value};
  ++s.size;
  ++s.stats.inserted;
}

bool MnpCache::erase(uint64_t number) {
  if (number == 0 || (number & ~kNumberMask) != 0) return false;
  const uint64_t hash = mix(number);
  Shard& s = shard_of(hash);
  std::lock_guard lock(s.mutex);
  for (std::size_t i = s.home(hash); s.slots[i].key != 0; i = s.next(i)) {
    if ((s.slots[i].key & kNumberMask) == number) {
      s.erase_at(i);
      return true;
    }
  }
  return false;
}

void MnpCache::clear() {
  for (std::size_t i = 0; i < shard_count_; ++i) {
    Shard& s = shards_[i];
    std::lock_guard lock(s.mutex);
    std::memset(static_cast<void*>(s.slots), 0, s.capacity * sizeof(Slot));
    s.size = 0;
  }
}

std::size_t MnpCache::size() const {
  std::size_t n = 0;
  for (std::size_t i = 0; i < shard_count_; ++i) {
    std::lock_guard lock(shards_[i].mutex);
    n += shards_[i].size;
  }
  return n;
}

std::size_t MnpCache::memory_bytes() const {
  return slots_ * sizeof(Slot) + shard_count_ * sizeof(Shard) + sizeof(*this);
}

MnpCache::Stats MnpCache::stats() const {
  Stats sum;
  for (std::size_t i = 0; i < shard_count_; ++i) {
    std::lock_guard lock(shards_[i].mutex);
    const Stats& s = shards_[i].stats;
    sum.hits += s.hits;
    sum.misses += s.misses;
    sum.expired += s.expired;
    sum.evicted += s.evicted;
    sum.inserted += s.inserted;
    sum.replaced += s.replaced;
  }
  return sum;
}

}  // namespace smppd::mnp
