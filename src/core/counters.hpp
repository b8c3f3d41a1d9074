// The metrics registry: counters, gauges that go up and down, and histograms, each a series of
// a family name and labels that follow Prometheus (`smppd_messages_total{client="a",...}`), so
// the metrics endpoint (api/metrics) exposes a snapshot as it is.
//
// Made for the message path. A series is found once (counter(), gauge(), histogram(): a lock
// and a lookup) and its id kept; counting with the id takes no lock and looks nothing up: each
// thread adds to cells of its own, which only it writes, and a scrape sums them. add() by name
// and labels remains for rare events (a bind, a connection, a failure), where the lookup does
// not matter.
//
// Series are created on first use and never removed: label values must come from a bounded set
// (configured clients and upstreams, status names, fixed reasons), never from what a peer sends.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace smppd {

using Label = std::pair<std::string_view, std::string_view>;

enum class SeriesKind : uint8_t { counter, gauge, histogram };

// A series found once. 0 (the default) counts into a cell nobody reads: a series that could
// not be created (more than kMaxSlots) is dropped rather than crash the message path.
struct CounterId {
  uint32_t slot = 0;
};

// A histogram's upper bounds, ascending, in the unit its observations are given in; dividing
// by `divisor` gives the exposed unit (1e6 for microseconds exposed as seconds: a division,
// so that 25,000 us is exactly the 0.025 s a reader expects). Static storage: ids point to it.
struct Buckets {
  std::span<const uint64_t> bounds;
  double divisor = 1;
};

struct HistogramId {
  uint32_t slot = 0;  // bounds.size() + 1 bucket cells, then the sum
  const Buckets* buckets = nullptr;
};

class Counters {
 public:
  Counters();
  ~Counters();
  Counters(const Counters&) = delete;
  Counters& operator=(const Counters&) = delete;

  // ---- found once ----
  CounterId counter(std::string_view name, std::initializer_list<Label> labels);
  // A value that goes up and down (add a negative delta).
  CounterId gauge(std::string_view name, std::initializer_list<Label> labels);
  HistogramId histogram(std::string_view name, std::initializer_list<Label> labels,
                        const Buckets& buckets);

  // A counter family whose series are numbered 0 .. count - 1 (a PDU's command, a status): their
  // slots are reserved at once and counted as add(CounterId{base + i}), with no lookup at all.
  // `labels(i)` names series i at scrape time; series still at 0 are left out. Returns `base`
  // (0 when the registry is full: everything then counts nowhere).
  // A block of the same `name` and `key` made again is the same block.
  using Labeler = std::function<std::vector<std::pair<std::string, std::string>>(uint32_t)>;
  uint32_t block(std::string_view name, std::string_view key, uint32_t count, Labeler labels);

  // ---- the message path: no lock, no lookup ----
  void add(CounterId id, uint64_t n = 1) { bump(id.slot, n); }
  void add_signed(CounterId id, int64_t delta) { bump(id.slot, static_cast<uint64_t>(delta)); }
  void observe(HistogramId id, uint64_t value) {
    if (id.buckets == nullptr) return;
    const auto bounds = id.buckets->bounds;
    std::size_t i = 0;
    while (i < bounds.size() && value > bounds[i]) ++i;
    bump(id.slot + static_cast<uint32_t>(i), 1);
    bump(id.slot + static_cast<uint32_t>(bounds.size()) + 1, value);
  }

  // A series found by a number its caller makes of its labels (a client's index, an upstream's,
  // a status), remembered per thread: once a thread has seen `key`, no lock and no string.
  // `make()` finds the series (counter(), gauge() or histogram()) and returns its slot; it runs
  // on each thread's first use of `key`. Keys are shared by every caller of this registry:
  // each family puts a tag of its own in the high bits.
  template <class Make>
  uint32_t slot_for(uint64_t key, Make&& make) {
    auto& memo = cells().memo;
    if (auto it = memo.find(key); it != memo.end()) return it->second;
    const uint32_t slot = make();
    cells().memo.emplace(key, slot);
    return slot;
  }

  // ---- rare events: a lock and a lookup ----
  void add(std::string_view name, std::initializer_list<Label> labels, uint64_t n = 1);

  // ---- reading ----
  uint64_t get(std::string_view name, std::initializer_list<Label> labels) const;
  int64_t get_gauge(std::string_view name, std::initializer_list<Label> labels) const;
  // Every counter as "name{labels}" and its value, sorted by key (gauges and histograms left
  // out).
  std::vector<std::pair<std::string, uint64_t>> snapshot() const;

  struct Sample {
    std::string_view name;
    std::span<const std::pair<std::string, std::string>> labels;
    SeriesKind kind;
    double value;                     // counter, gauge
    const Buckets* buckets;           // histogram
    std::span<const uint64_t> counts;  // histogram: per bucket, not cumulative, +Inf last
    double sum;                       // histogram, in the exposed unit
  };
  // Every series, sorted by name then labels, summed over threads at the time of the call.
  void collect(const std::function<void(const Sample&)>& visit) const;

  static std::string key(std::string_view name, std::initializer_list<Label> labels);

  static constexpr uint32_t kChunkSlots = 1024;
  static constexpr uint32_t kMaxChunks = 1024;
  static constexpr uint32_t kMaxSlots = kChunkSlots * kMaxChunks;

 private:
  struct Chunk {
    std::array<std::atomic<uint64_t>, kChunkSlots> cells{};
  };
  // One thread's cells; only that thread writes them.
  struct Cells {
    std::array<std::atomic<Chunk*>, kMaxChunks> chunks{};
    std::unordered_map<uint64_t, uint32_t> memo;  // slot_for()
    ~Cells();
  };
  struct Series {
    std::string name;
    std::vector<std::pair<std::string, std::string>> labels;
    SeriesKind kind;
    uint32_t slot;
    const Buckets* buckets;
  };

  void bump(uint32_t slot, uint64_t n) {
    std::atomic<uint64_t>& c = cell(slot);
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  std::atomic<uint64_t>& cell(uint32_t slot) {
    Cells& mine = cells();
    Chunk* chunk = mine.chunks[slot / kChunkSlots].load(std::memory_order_acquire);
    if (chunk == nullptr) chunk = new_chunk(mine, slot / kChunkSlots);
    return chunk->cells[slot % kChunkSlots];
  }
  Cells& cells() {
    if (tls_.generation == generation_) return *tls_.cells;
    return cells_slow();
  }
  Cells& cells_slow();
  Chunk* new_chunk(Cells& cells, uint32_t index);
  // With mutex_ held.
  const Series& find_or_add_locked(std::string_view name, std::initializer_list<Label> labels,
                                   SeriesKind kind, const Buckets* buckets);
  uint64_t sum_locked(uint32_t slot) const;

  struct ThreadCache {
    uint64_t generation = 0;
    Cells* cells = nullptr;
  };
  static thread_local ThreadCache tls_;

  const uint64_t generation_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Cells>> all_cells_;
  std::unordered_map<std::thread::id, Cells*> by_thread_;
  std::unordered_map<std::string, std::size_t> by_key_;  // -> series_ index
  std::vector<Series> series_;
  struct Block {
    std::string name;
    std::string key;
    uint32_t base;
    uint32_t count;
    Labeler labels;
  };
  std::vector<Block> blocks_;
  uint32_t next_slot_ = 1;  // slot 0: the sink of ids that could not be made
};

}  // namespace smppd
