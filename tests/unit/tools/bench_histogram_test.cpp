#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>

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

}  // namespace
}  // namespace sockit::tools
