#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace sockit::tools {

/// Latencies (or any non-negative integers, here nanoseconds) in log-linear buckets, like
/// HdrHistogram: each power of two is cut into 128 equal buckets, so a recorded value is known
/// to within 1/128 of itself and the bucket's midpoint is within 0.4% (≤ 1% is the contract).
/// Values below 128 are exact. Fixed size (about 60 KiB), no allocation after construction.
/// Not thread-safe: one per thread, then merge().
class LatencyHistogram {
 public:
  static constexpr unsigned kSubBucketBits = 7;
  static constexpr std::uint64_t kSubBuckets = std::uint64_t{1} << kSubBucketBits;

  LatencyHistogram();

  void record(std::uint64_t value) noexcept;
  /// Adds every value `other` holds.
  void merge(const LatencyHistogram& other) noexcept;
  void clear() noexcept;

  std::uint64_t count() const noexcept { return count_; }
  /// Exact smallest and largest recorded values (0 when empty).
  std::uint64_t min() const noexcept { return count_ ? min_ : 0; }
  std::uint64_t max() const noexcept { return max_; }
  /// Mean of the exact values (their sum is kept), 0 when empty.
  double mean() const noexcept;

  /// The value at `percentile` (0..100): the smallest bucket whose cumulative count reaches
  /// ceil(percentile% of count), reported as that bucket's midpoint, clamped to [min, max].
  /// 0 when empty.
  std::uint64_t percentile(double percentile) const noexcept;

  /// What the histogram reports for a bucket holding only `value`: its bucket's midpoint.
  static std::uint64_t representative(std::uint64_t value) noexcept;
  /// The bucket index of `value`, and the range [lowest, highest] of a bucket.
  static std::size_t bucket_of(std::uint64_t value) noexcept;
  static std::uint64_t lowest_in(std::size_t bucket) noexcept;
  static std::uint64_t highest_in(std::size_t bucket) noexcept;

 private:
  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  std::uint64_t min_ = UINT64_MAX;
  std::uint64_t max_ = 0;
  long double sum_ = 0;
};

}  // namespace sockit::tools
