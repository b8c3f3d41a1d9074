// The MNP cache at the design's size (bench/README.md, "MNP cache"): 10 million numbers, their
// bytes per entry (the process's resident memory before and after, and the table's own
// accounting), and lookups a second that hit and that miss, on one thread and on two; puts into
// the full cache, each of which evicts.
//
// Numbers are 12 digits (2588 4000 0000 onwards), read in a random order: every lookup is a
// cache miss of the CPU's own caches too, as it is for a daemon whose 10 million numbers spread
// over 230 MB.
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <memory>
#include <string>

#include "mnp/mnp_cache.hpp"

namespace {

using namespace smppd::mnp;
using Clock = MnpCache::Clock;

constexpr uint64_t kEntries = 10'000'000;
constexpr uint64_t kFirst = 258'840'000'000;
constexpr uint64_t kTwelveDigits = uint64_t{12} << 50;  // pack_number's length bits

uint64_t number(uint64_t i) {
  return (kFirst + i) | kTwelveDigits;
}

// The process's resident memory, from /proc/self/statm (its second field, in pages).
double resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0;
  uint64_t resident = 0;
  statm >> size >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

// xorshift64*: a random index without a table (a table of 10 million would be in the RSS).
struct Random {
  uint64_t state;
  uint64_t operator()() {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545F4914F6CDD1DULL;
  }
};

struct Filled {
  std::unique_ptr<MnpCache> cache;
  Clock::time_point now;
  double resident_before = 0;
  double resident_after = 0;
  double fill_seconds = 0;
};

// Made once, on first use, by whichever benchmark runs first.
Filled& filled() {
  static Filled f = [] {
    Filled made;
    made.resident_before = resident_bytes();
    made.now = Clock::now();
    const auto start = Clock::now();
    made.cache = std::make_unique<MnpCache>(kEntries, made.now);
    for (uint64_t i = 0; i < kEntries; ++i) {
      const Network n{655, static_cast<uint16_t>(i % 100), false, i % 7 == 0};
      made.cache->put(number(i), n, made.now, std::chrono::hours(24));
    }
    made.fill_seconds = std::chrono::duration<double>(Clock::now() - start).count();
    made.resident_after = resident_bytes();
    return made;
  }();
  return f;
}

void BM_Fill10M(benchmark::State& state) {
  Filled& f = filled();
  for (auto _ : state) state.SetIterationTime(f.fill_seconds);
  const double entries = static_cast<double>(f.cache->size());
  state.counters["entries"] = entries;
  state.counters["puts_per_s"] = static_cast<double>(kEntries) / f.fill_seconds;
  state.counters["rss_B_per_entry"] = (f.resident_after - f.resident_before) / entries;
  state.counters["table_B_per_entry"] = static_cast<double>(f.cache->memory_bytes()) / entries;
  state.counters["table_MiB"] = static_cast<double>(f.cache->memory_bytes()) / (1024.0 * 1024.0);
}
BENCHMARK(BM_Fill10M)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

void BM_LookupHit(benchmark::State& state) {
  Filled& f = filled();
  Random random{0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(state.thread_index()) * 7919};
  uint64_t found = 0;
  for (auto _ : state) {
    const auto hit = f.cache->find(number(random() % kEntries), f.now);
    found += hit ? 1 : 0;
    benchmark::DoNotOptimize(hit);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["hit_ratio"] =
      benchmark::Counter(static_cast<double>(found) / static_cast<double>(state.iterations()),
                         benchmark::Counter::kAvgThreads);
}
BENCHMARK(BM_LookupHit)->Threads(1)->Threads(2)->UseRealTime();

void BM_LookupMiss(benchmark::State& state) {
  Filled& f = filled();
  Random random{0xD1B54A32D192ED03ULL + static_cast<uint64_t>(state.thread_index()) * 7919};
  for (auto _ : state) {
    // Numbers past those filled: never there.
    const auto hit = f.cache->find(number(kEntries + random() % kEntries), f.now);
    benchmark::DoNotOptimize(hit);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LookupMiss)->Threads(1)->Threads(2)->UseRealTime();

// Puts of numbers not there into the full cache: each one evicts (the 8-entry sample near its
// home).
void BM_PutEvicting(benchmark::State& state) {
  Filled& f = filled();
  uint64_t next = 2 * kEntries;
  for (auto _ : state)
    f.cache->put(number(next++), Network{655, 1, false, false}, f.now, std::chrono::hours(24));
  state.SetItemsProcessed(state.iterations());
  state.counters["size"] = static_cast<double>(f.cache->size());
}
BENCHMARK(BM_PutEvicting)->UseRealTime();

// What a lookup by text costs before the cache: the number packed.
void BM_PackNumber(benchmark::State& state) {
  const std::string e164 = "+258841234567";
  for (auto _ : state) benchmark::DoNotOptimize(pack_number(e164));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PackNumber);

}  // namespace

BENCHMARK_MAIN();
