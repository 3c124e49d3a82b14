#pragma once

#include <nlohmann/json.hpp>

#include "tools/bench_histogram.hpp"

namespace sockit::tools {

/// The scheme a report's latency histogram is written in; a reader that knows it rebuilds the
/// histogram, and from it the percentiles, exactly (docs/bench.md).
inline constexpr const char* kHistogramScheme = "log-linear";
inline constexpr int kHistogramSchemeVersion = 1;

/// {"scheme", "scheme_version", "sub_bucket_bits", "unit": "ns", "count", "min", "max", "sum",
///  "buckets": [[index, lowest, highest, count], ...]}: every non-empty bucket, ascending, with
/// the range of values it holds.
nlohmann::json histogram_to_json(const LatencyHistogram& histogram);

/// The histogram histogram_to_json() wrote. Throws std::invalid_argument saying what is wrong:
/// another scheme or version, a malformed member, a bucket whose range is not that of its index,
/// counts that do not add up to "count", extremes or a sum that do not fit the buckets.
/// Bounded: at most one entry per bucket of the scheme.
LatencyHistogram histogram_from_json(const nlohmann::json& json);

}  // namespace sockit::tools
