// A latency histogram with fixed log-linear buckets (the HdrHistogram layout): values below 128
// have a bucket each, and every power of two above is cut into 64 equal buckets, so a bucket is
// at most 1/64 (1.6 %) of its values wide. Recording is an index computation and an increment:
// no allocation and no sorting, whatever the number of samples. Values are nanoseconds.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <limits>

namespace smppd::bench {

class LatencyHistogram {
 public:
  static constexpr unsigned kSubBits = 6;  // 64 buckets per power of two
  static constexpr uint64_t kSub = uint64_t{1} << kSubBits;
  static constexpr std::size_t kBuckets = 2 * kSub + (63 - kSubBits) * kSub;

  void record(uint64_t v) {
    ++counts_[index_of(v)];
    ++count_;
    sum_ += v;
    min_ = std::min(min_, v);
    max_ = std::max(max_, v);
  }

  void merge(const LatencyHistogram& o) {
    for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += o.counts_[i];
    count_ += o.count_;
    sum_ += o.sum_;
    min_ = std::min(min_, o.min_);
    max_ = std::max(max_, o.max_);
  }

  uint64_t count() const { return count_; }
  uint64_t max() const { return count_ == 0 ? 0 : max_; }
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  double mean() const {
    return count_ == 0 ? 0 : static_cast<double>(sum_) / static_cast<double>(count_);
  }

  // The smallest recorded-bucket bound below which at least `p` (0..100) per cent of the
  // samples lie: the bucket's highest value, never above the largest sample.
  uint64_t percentile(double p) const {
    if (count_ == 0) return 0;
    const double wanted = std::clamp(p, 0.0, 100.0) / 100.0 * static_cast<double>(count_);
    uint64_t rank = static_cast<uint64_t>(wanted);
    if (static_cast<double>(rank) < wanted) ++rank;  // ceil
    rank = std::max<uint64_t>(rank, 1);
    uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen >= rank) return std::min(highest_in(i), max_);
    }
    return max_;
  }

  static std::size_t index_of(uint64_t v) {
    if (v < 2 * kSub) return static_cast<std::size_t>(v);
    const unsigned msb = 63u - static_cast<unsigned>(std::countl_zero(v));  // >= kSubBits + 1
    const unsigned shift = msb - kSubBits;
    return static_cast<std::size_t>(2 * kSub + (msb - kSubBits - 1) * kSub + ((v >> shift) - kSub));
  }
  static uint64_t lowest_in(std::size_t i) {
    if (i < 2 * kSub) return i;
    const std::size_t k = i - 2 * kSub;
    const unsigned shift = static_cast<unsigned>(k / kSub) + 1;
    return (kSub + k % kSub) << shift;
  }
  static uint64_t highest_in(std::size_t i) {
    if (i + 1 >= kBuckets) return std::numeric_limits<uint64_t>::max();
    return lowest_in(i + 1) - 1;
  }

 private:
  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = std::numeric_limits<uint64_t>::max();
  uint64_t max_ = 0;
};

}  // namespace smppd::bench
