#include "tools/bench_histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace sockit::tools {
namespace {

// Buckets 0..127 hold the values 0..127 exactly. Above, the octave [2^e, 2^(e+1)) for
// e = 7..63 has 128 buckets of width 2^(e-7).
constexpr std::size_t kBucketCount =
    LatencyHistogram::kSubBuckets + (64 - LatencyHistogram::kSubBucketBits) * LatencyHistogram::kSubBuckets;

}  // namespace

LatencyHistogram::LatencyHistogram() : counts_(kBucketCount, 0) {}

std::size_t LatencyHistogram::bucket_of(std::uint64_t value) noexcept {
  if (value < kSubBuckets) return static_cast<std::size_t>(value);
  const unsigned exponent = 63 - static_cast<unsigned>(std::countl_zero(value));
  const unsigned shift = exponent - kSubBucketBits;
  const std::uint64_t sub = (value >> shift) - kSubBuckets;  // 0..127 within the octave
  return static_cast<std::size_t>(kSubBuckets + shift * kSubBuckets + sub);
}

std::uint64_t LatencyHistogram::lowest_in(std::size_t bucket) noexcept {
  if (bucket < kSubBuckets) return bucket;
  const std::size_t shift = (bucket - kSubBuckets) / kSubBuckets;
  const std::uint64_t sub = (bucket - kSubBuckets) % kSubBuckets;
  return (kSubBuckets + sub) << shift;
}

std::uint64_t LatencyHistogram::highest_in(std::size_t bucket) noexcept {
  if (bucket < kSubBuckets) return bucket;
  const std::size_t shift = (bucket - kSubBuckets) / kSubBuckets;
  return lowest_in(bucket) + ((std::uint64_t{1} << shift) - 1);
}

std::uint64_t LatencyHistogram::representative(std::uint64_t value) noexcept {
  const std::size_t bucket = bucket_of(value);
  const std::uint64_t low = lowest_in(bucket);
  return low + (highest_in(bucket) - low) / 2;
}

void LatencyHistogram::record(std::uint64_t value) noexcept {
  ++counts_[bucket_of(value)];
  ++count_;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  sum_ += static_cast<long double>(value);
}

void LatencyHistogram::merge(const LatencyHistogram& other) noexcept {
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

void LatencyHistogram::clear() noexcept {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = 0;
  min_ = UINT64_MAX;
  max_ = 0;
  sum_ = 0;
}

double LatencyHistogram::mean() const noexcept {
  return count_ ? static_cast<double>(sum_ / static_cast<long double>(count_)) : 0.0;
}

std::uint64_t LatencyHistogram::percentile(double percentile) const noexcept {
  if (count_ == 0) return 0;
  // The small allowance keeps 99.9% of 1000 at rank 999 despite 0.999 * 1000 = 999.0000000000001.
  const double fraction = std::clamp(percentile, 0.0, 100.0) / 100.0;
  const auto rank = std::max<std::uint64_t>(
      1, static_cast<std::uint64_t>(std::ceil(fraction * static_cast<double>(count_) - 1e-9)));
  std::uint64_t seen = 0;
  for (std::size_t bucket = 0; bucket < counts_.size(); ++bucket) {
    seen += counts_[bucket];
    if (seen >= rank) {
      const std::uint64_t low = lowest_in(bucket);
      return std::clamp(low + (highest_in(bucket) - low) / 2, min(), max_);
    }
  }
  return max_;
}

}  // namespace sockit::tools
