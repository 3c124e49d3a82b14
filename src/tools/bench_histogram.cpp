#include "tools/bench_histogram.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <stdexcept>
#include <string>

namespace sockit::tools {

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

std::vector<LatencyHistogram::Bucket> LatencyHistogram::buckets() const {
  std::vector<Bucket> found;
  for (std::size_t i = 0; i < counts_.size(); ++i)
    if (counts_[i]) found.emplace_back(i, counts_[i]);
  return found;
}

LatencyHistogram LatencyHistogram::restore(std::span<const Bucket> buckets, std::uint64_t min, std::uint64_t max,
                                           long double sum) {
  const auto refuse = [](std::string why) { throw std::invalid_argument(std::move(why)); };
  LatencyHistogram h;
  for (std::size_t k = 0; k < buckets.size(); ++k) {
    const auto [bucket, count] = buckets[k];
    if (bucket >= kBucketCount) refuse(fmt::format("bucket {} does not exist (there are {})", bucket, kBucketCount));
    if (k > 0 && bucket <= buckets[k - 1].first)
      refuse(fmt::format("bucket {} comes after bucket {}: buckets must be in ascending order, once each", bucket,
                         buckets[k - 1].first));
    if (count == 0) refuse(fmt::format("bucket {} is listed with a count of 0", bucket));
    if (h.count_ > UINT64_MAX - count) refuse("the bucket counts add up to more than 2^64");
    h.counts_[bucket] = count;
    h.count_ += count;
  }
  if (buckets.empty()) {
    if (min != 0 || max != 0 || sum != 0)
      refuse(fmt::format("an empty histogram has min, max and sum 0, not {}, {}, {}", min, max,
                         static_cast<double>(sum)));
    return h;
  }
  if (min > max) refuse(fmt::format("min {} is above max {}", min, max));
  if (bucket_of(min) != buckets.front().first || bucket_of(max) != buckets.back().first)
    refuse(fmt::format("min {} and max {} are not in the first and last non-empty buckets ({} and {})", min, max,
                       buckets.front().first, buckets.back().first));
  // The sum travels as a double: allow its rounding, nothing more.
  const auto n = static_cast<long double>(h.count_);
  constexpr long double kRounding = 1e-9L;
  if (!std::isfinite(sum) || sum < n * static_cast<long double>(min) * (1 - kRounding) ||
      sum > n * static_cast<long double>(max) * (1 + kRounding))
    refuse(fmt::format("the sum {} cannot be that of {} values from {} to {}", static_cast<double>(sum), h.count_, min,
                       max));
  h.min_ = min;
  h.max_ = max;
  h.sum_ = sum;
  return h;
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
  // The first and the last value are known exactly, not only their buckets.
  if (rank == 1) return min();
  if (rank >= count_) return max_;
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
