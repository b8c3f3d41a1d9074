#include "core/counters.hpp"

#include <algorithm>
#include <deque>
#include <map>

namespace smppd {

namespace {
std::atomic<uint64_t> next_generation{1};

void append_key(std::string& k, std::string_view name, std::initializer_list<Label> labels) {
  k.append(name);
  if (labels.size() == 0) return;
  k += '{';
  bool first = true;
  for (const auto& [label, value] : labels) {
    if (!first) k += ',';
    first = false;
    k += label;
    k += "=\"";
    for (char c : value) {
      if (c == '"' || c == '\\') k += '\\';
      k += c;
    }
    k += '"';
  }
  k += '}';
}

uint32_t slots_of(SeriesKind kind, const Buckets* buckets) {
  if (kind != SeriesKind::histogram) return 1;
  return static_cast<uint32_t>(buckets->bounds.size()) + 2;
}
}  // namespace

thread_local Counters::ThreadCache Counters::tls_;

Counters::Counters() : generation_(next_generation.fetch_add(1)) {}

Counters::~Counters() = default;

Counters::Cells::~Cells() {
  for (auto& c : chunks) delete c.load();
}

std::string Counters::key(std::string_view name, std::initializer_list<Label> labels) {
  std::string k;
  append_key(k, name, labels);
  return k;
}

Counters::Cells& Counters::cells_slow() {
  std::lock_guard lock(mutex_);
  Cells*& mine = by_thread_[std::this_thread::get_id()];
  if (mine == nullptr) mine = all_cells_.emplace_back(std::make_unique<Cells>()).get();
  tls_ = ThreadCache{generation_, mine};
  return *mine;
}

Counters::Chunk* Counters::new_chunk(Cells& cells, uint32_t index) {
  // Only this thread writes its cells; the lock orders the new chunk with a scrape's reading.
  std::lock_guard lock(mutex_);
  auto* chunk = new Chunk();
  cells.chunks[index].store(chunk, std::memory_order_release);
  return chunk;
}

const Counters::Series& Counters::find_or_add_locked(std::string_view name,
                                                     std::initializer_list<Label> labels,
                                                     SeriesKind kind, const Buckets* buckets) {
  thread_local std::string k;
  k.clear();
  append_key(k, name, labels);
  if (auto it = by_key_.find(k); it != by_key_.end()) return series_[it->second];
  Series s{std::string(name), {}, kind, 0, buckets};
  for (const auto& [label, value] : labels) s.labels.emplace_back(label, value);
  const uint32_t needed = slots_of(kind, buckets);
  // A series never straddles two chunks: a histogram's cells are found from one chunk.
  if (next_slot_ / kChunkSlots != (next_slot_ + needed - 1) / kChunkSlots) {
    next_slot_ = (next_slot_ / kChunkSlots + 1) * kChunkSlots;
  }
  if (next_slot_ + needed <= kMaxSlots) {
    s.slot = next_slot_;
    next_slot_ += needed;
  }
  // else slot 0: counted nowhere (and a histogram's extra cells stay within chunk 0).
  by_key_.emplace(k, series_.size());
  series_.push_back(std::move(s));
  return series_.back();
}

CounterId Counters::counter(std::string_view name, std::initializer_list<Label> labels) {
  std::lock_guard lock(mutex_);
  return CounterId{find_or_add_locked(name, labels, SeriesKind::counter, nullptr).slot};
}

CounterId Counters::gauge(std::string_view name, std::initializer_list<Label> labels) {
  std::lock_guard lock(mutex_);
  return CounterId{find_or_add_locked(name, labels, SeriesKind::gauge, nullptr).slot};
}

HistogramId Counters::histogram(std::string_view name, std::initializer_list<Label> labels,
                                const Buckets& buckets) {
  std::lock_guard lock(mutex_);
  const Series& s = find_or_add_locked(name, labels, SeriesKind::histogram, &buckets);
  if (s.slot == 0) return HistogramId{};
  return HistogramId{s.slot, s.buckets};
}

uint32_t Counters::block(std::string_view name, std::string_view key, uint32_t count,
                         Labeler labels) {
  std::lock_guard lock(mutex_);
  for (const auto& b : blocks_) {
    if (b.name == name && b.key == key) return b.base;
  }
  if (next_slot_ + count > kMaxSlots) return 0;
  const uint32_t base = next_slot_;
  next_slot_ += count;
  blocks_.push_back(Block{std::string(name), std::string(key), base, count, std::move(labels)});
  return base;
}

void Counters::add(std::string_view name, std::initializer_list<Label> labels, uint64_t n) {
  uint32_t slot;
  {
    std::lock_guard lock(mutex_);
    slot = find_or_add_locked(name, labels, SeriesKind::counter, nullptr).slot;
  }
  bump(slot, n);
}

uint64_t Counters::sum_locked(uint32_t slot) const {
  uint64_t total = 0;
  for (const auto& cells : all_cells_) {
    const Chunk* chunk = cells->chunks[slot / kChunkSlots].load(std::memory_order_acquire);
    if (chunk != nullptr) total += chunk->cells[slot % kChunkSlots].load(std::memory_order_relaxed);
  }
  return total;
}

uint64_t Counters::get(std::string_view name, std::initializer_list<Label> labels) const {
  const std::string k = key(name, labels);
  std::lock_guard lock(mutex_);
  auto it = by_key_.find(k);
  if (it == by_key_.end() || series_[it->second].slot == 0) return 0;
  return sum_locked(series_[it->second].slot);
}

int64_t Counters::get_gauge(std::string_view name, std::initializer_list<Label> labels) const {
  return static_cast<int64_t>(get(name, labels));
}

std::vector<std::pair<std::string, uint64_t>> Counters::snapshot() const {
  std::vector<std::pair<std::string, uint64_t>> out;
  std::lock_guard lock(mutex_);
  for (const auto& [k, index] : by_key_) {
    const Series& s = series_[index];
    if (s.kind != SeriesKind::counter || s.slot == 0) continue;
    out.emplace_back(k, sum_locked(s.slot));
  }
  std::sort(out.begin(), out.end());
  return out;
}

void Counters::collect(const std::function<void(const Sample&)>& visit) const {
  std::lock_guard lock(mutex_);
  std::vector<const Series*> order;
  order.reserve(series_.size());
  for (const auto& s : series_) {
    if (s.slot != 0) order.push_back(&s);
  }
  // The blocks' series that counted something, as series of their own for this scrape.
  std::deque<Series> numbered;
  for (const auto& b : blocks_) {
    for (uint32_t i = 0; i < b.count; ++i) {
      if (sum_locked(b.base + i) == 0) continue;
      numbered.push_back(Series{b.name, b.labels(i), SeriesKind::counter, b.base + i, nullptr});
      order.push_back(&numbered.back());
    }
  }
  std::sort(order.begin(), order.end(), [](const Series* a, const Series* b) {
    return std::tie(a->name, a->labels) < std::tie(b->name, b->labels);
  });
  std::vector<uint64_t> counts;
  for (const Series* s : order) {
    Sample sample{s->name, s->labels, s->kind, 0, s->buckets, {}, 0};
    switch (s->kind) {
      case SeriesKind::counter:
        sample.value = static_cast<double>(sum_locked(s->slot));
        break;
      case SeriesKind::gauge:
        sample.value = static_cast<double>(static_cast<int64_t>(sum_locked(s->slot)));
        break;
      case SeriesKind::histogram: {
        const auto n = static_cast<uint32_t>(s->buckets->bounds.size()) + 1;
        counts.assign(n, 0);
        for (uint32_t i = 0; i < n; ++i) counts[i] = sum_locked(s->slot + i);
        sample.counts = counts;
        sample.sum = static_cast<double>(sum_locked(s->slot + n)) / s->buckets->divisor;
        break;
      }
    }
    visit(sample);
  }
}

}  // namespace smppd
