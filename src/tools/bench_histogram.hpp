#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
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
  /// Buckets 0..127 hold the values 0..127 exactly; above, the octave [2^e, 2^(e+1)) for
  /// e = 7..63 has 128 buckets of width 2^(e-7).
  static constexpr std::size_t kBucketCount = kSubBuckets + (64 - kSubBucketBits) * kSubBuckets;

  /// A non-empty bucket: its index and how many values it holds.
  using Bucket = std::pair<std::size_t, std::uint64_t>;

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
  /// The sum of the recorded values (long double: exact up to 2^64).
  long double sum() const noexcept { return sum_; }
  /// The non-empty buckets in ascending order.
  std::vector<Bucket> buckets() const;

  /// A histogram holding `buckets` (ascending, non-empty), whose exact extremes and sum were
  /// `min`, `max` and `sum`: what buckets(), min(), max() and sum() of another gave. Throws
  /// std::invalid_argument saying what does not add up: a bucket out of range, repeated or out of
  /// order, a count of 0, a total past 2^64, min above max, min or max outside the first or last
  /// bucket, a sum outside [count x min, count x max].
  static LatencyHistogram restore(std::span<const Bucket> buckets, std::uint64_t min, std::uint64_t max,
                                  long double sum);

  /// The value at `percentile` (0..100), of rank max(1, ceil(percentile% of count)): the exact
  /// min for rank 1, the exact max for rank count, else the midpoint of the smallest bucket whose
  /// cumulative count reaches the rank, clamped to [min, max]. 0 when empty.
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
