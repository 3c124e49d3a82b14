#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

#include "tools/bench_histogram.hpp"

namespace sockit::tools {
namespace {

double relative_error(std::uint64_t reported, std::uint64_t actual) {
  return std::abs(static_cast<double>(reported) - static_cast<double>(actual)) / static_cast<double>(actual);
}

TEST(LatencyHistogram, SmallValuesAreExact) {
  for (std::uint64_t v = 0; v < 128; ++v) EXPECT_EQ(LatencyHistogram::representative(v), v);
}

TEST(LatencyHistogram, RelativeErrorIsAtMostOnePercentFromOneNanosecondToHours) {
  double worst = 0;
  for (double v = 1; v < 1e13; v *= 1.003) {
    const auto value = static_cast<std::uint64_t>(v);
    worst = std::max(worst, relative_error(LatencyHistogram::representative(value), value));
  }
  std::mt19937_64 random(42);
  for (int i = 0; i < 100000; ++i) {
    const std::uint64_t value = (random() >> (random() % 60)) + 1;
    worst = std::max(worst, relative_error(LatencyHistogram::representative(value), value));
  }
  EXPECT_LE(worst, 0.01);
}

TEST(LatencyHistogram, BucketsTileTheRangeWithoutGaps) {
  for (std::size_t bucket = 1; bucket < 128 * 40; ++bucket)
    ASSERT_EQ(LatencyHistogram::lowest_in(bucket), LatencyHistogram::highest_in(bucket - 1) + 1) << bucket;
  EXPECT_EQ(LatencyHistogram::bucket_of(UINT64_MAX), LatencyHistogram::bucket_of(UINT64_MAX - 1));
}

TEST(LatencyHistogram, PercentilesOfUniformValuesAreWithinOnePercent) {
  LatencyHistogram h;
  for (std::uint64_t v = 1; v <= 100000; ++v) h.record(v * 1000);
  EXPECT_LE(relative_error(h.percentile(50), 50'000'000), 0.01);
  EXPECT_LE(relative_error(h.percentile(90), 90'000'000), 0.01);
  EXPECT_LE(relative_error(h.percentile(99), 99'000'000), 0.01);
  EXPECT_LE(relative_error(h.percentile(99.9), 99'900'000), 0.01);
}

TEST(LatencyHistogram, MaxMinAndMeanAreExact) {
  LatencyHistogram h;
  for (std::uint64_t v : {1000u, 2000u, 3000u, 123457u}) h.record(v);
  EXPECT_EQ(h.max(), 123457u);
  EXPECT_EQ(h.percentile(100), 123457u);
  EXPECT_EQ(h.min(), 1000u);
  EXPECT_DOUBLE_EQ(h.mean(), (1000 + 2000 + 3000 + 123457) / 4.0);
  EXPECT_EQ(h.count(), 4u);
}

TEST(LatencyHistogram, OneSlowRequestInAThousandIsThePointNineNinePercentile) {
  LatencyHistogram h;
  for (int i = 0; i < 999; ++i) h.record(100'000);
  h.record(50'000'000);
  EXPECT_LE(relative_error(h.percentile(99.9), 100'000), 0.01);
  EXPECT_LE(relative_error(h.percentile(99.95), 50'000'000), 0.01);
}

TEST(LatencyHistogram, TheFirstAndLastRanksAreTheExactMinAndMaxNotTheirBucketsMidpoint) {
  LatencyHistogram h;  // all three in the bucket 999,424..1,003,519 (midpoint 1,001,471)
  for (std::uint64_t v : {1'000'001u, 1'000'500u, 1'000'900u}) h.record(v);
  EXPECT_EQ(h.percentile(0), 1'000'001u);
  EXPECT_EQ(h.percentile(33), 1'000'001u);
  EXPECT_EQ(h.percentile(50), 1'000'900u);  // rank 2: the midpoint, clamped to the max
  EXPECT_EQ(h.percentile(100), 1'000'900u);
}

TEST(LatencyHistogram, EmptyReportsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.percentile(99), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.mean(), 0.0);
}

TEST(LatencyHistogram, MergeIsTheSameAsRecordingEverythingInOne) {
  LatencyHistogram a, b, all;
  for (std::uint64_t v = 1; v < 5000; v += 7) (v % 2 ? a : b).record(v * 13), all.record(v * 13);
  a.merge(b);
  EXPECT_EQ(a.count(), all.count());
  for (double p : {1.0, 50.0, 90.0, 99.0, 100.0}) EXPECT_EQ(a.percentile(p), all.percentile(p)) << p;
  EXPECT_EQ(a.min(), all.min());
}

TEST(LatencyHistogram, RestoredFromItsBucketsItReportsTheSameAsTheOriginal) {
  LatencyHistogram h;
  std::mt19937_64 random(7);
  for (int i = 0; i < 20000; ++i) h.record(random() % 50'000'000);
  const auto again = LatencyHistogram::restore(h.buckets(), h.min(), h.max(), h.sum());
  EXPECT_EQ(again.buckets(), h.buckets());
  EXPECT_EQ(again.count(), h.count());
  EXPECT_EQ(again.min(), h.min());
  EXPECT_EQ(again.max(), h.max());
  EXPECT_DOUBLE_EQ(again.mean(), h.mean());
  for (double p : {0.0, 1.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0}) EXPECT_EQ(again.percentile(p), h.percentile(p)) << p;
}

TEST(LatencyHistogram, RestoringNothingGivesAnEmptyHistogram) {
  const auto h = LatencyHistogram::restore({}, 0, 0, 0);
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile(50), 0u);
}

std::string restore_refusal(std::vector<LatencyHistogram::Bucket> buckets, std::uint64_t min, std::uint64_t max,
                            long double sum) {
  try {
    LatencyHistogram::restore(buckets, min, max, sum);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(LatencyHistogram, RestoreRefusesBucketsThatDoNotAddUp) {
  const auto b1000 = LatencyHistogram::bucket_of(1000), b2000 = LatencyHistogram::bucket_of(2000);
  EXPECT_EQ(restore_refusal({{LatencyHistogram::kBucketCount, 1}}, 0, 0, 0),
            "bucket 7424 does not exist (there are 7424)");
  EXPECT_EQ(restore_refusal({{b2000, 1}, {b1000, 1}}, 1000, 2000, 3000),
            "bucket " + std::to_string(b1000) + " comes after bucket " + std::to_string(b2000) +
                ": buckets must be in ascending order, once each");
  EXPECT_EQ(restore_refusal({{b1000, 1}, {b1000, 1}}, 1000, 1000, 2000),
            "bucket 506 comes after bucket 506: buckets must be in ascending order, once each");
  EXPECT_EQ(restore_refusal({{b1000, 0}}, 1000, 1000, 0), "bucket 506 is listed with a count of 0");
  EXPECT_EQ(restore_refusal({{b1000, UINT64_MAX}, {b2000, 1}}, 1000, 2000, 0),
            "the bucket counts add up to more than 2^64");
  EXPECT_EQ(restore_refusal({}, 5, 0, 0), "an empty histogram has min, max and sum 0, not 5, 0, 0");
  EXPECT_EQ(restore_refusal({{b1000, 2}}, 1003, 1000, 2003), "min 1003 is above max 1000");
  EXPECT_EQ(restore_refusal({{b1000, 1}, {b2000, 1}}, 1000, 5000, 6000),
            "min 1000 and max 5000 are not in the first and last non-empty buckets (506 and 634)");
  EXPECT_EQ(restore_refusal({{b1000, 2}}, 1000, 1000, 5000),
            "the sum 5000 cannot be that of 2 values from 1000 to 1000");
  EXPECT_EQ(restore_refusal({{b1000, 2}}, 1000, 1000, NAN), "the sum nan cannot be that of 2 values from 1000 to 1000");
}

}  // namespace
}  // namespace sockit::tools
