#include "tools/bench_histogram_json.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "net/text.hpp"
#include "tools/bench_json_read.hpp"

namespace sockit::tools {

nlohmann::json histogram_to_json(const LatencyHistogram& h) {
  nlohmann::json buckets = nlohmann::json::array();
  for (const auto& [bucket, count] : h.buckets())
    buckets.push_back({bucket, LatencyHistogram::lowest_in(bucket), LatencyHistogram::highest_in(bucket), count});
  return {{"scheme", kHistogramScheme},
          {"scheme_version", kHistogramSchemeVersion},
          {"sub_bucket_bits", LatencyHistogram::kSubBucketBits},
          {"unit", "ns"},
          {"count", h.count()},
          {"min", h.min()},
          {"max", h.max()},
          {"sum", static_cast<double>(h.sum())},
          {"buckets", buckets}};
}

LatencyHistogram histogram_from_json(const nlohmann::json& json) {
  namespace read = json_read;
  if (!json.is_object()) throw std::invalid_argument("the histogram is not an object");
  constexpr std::size_t kShort = 64;
  const auto scheme = read::text(json, "scheme", kShort);
  const auto version = read::whole(json, "scheme_version");
  const auto bits = read::whole(json, "sub_bucket_bits");
  const auto unit = read::text(json, "unit", kShort);
  if (scheme != kHistogramScheme || version != kHistogramSchemeVersion || bits != LatencyHistogram::kSubBucketBits ||
      unit != "ns")
    throw std::invalid_argument(fmt::format(
        "the histogram's scheme is {} version {} with {} sub-bucket bits in {}; this sockit reads {} version {} "
        "with {} in ns, and cannot rebuild percentiles from another",
        net::printable(scheme), version, bits, net::printable(unit), kHistogramScheme, kHistogramSchemeVersion,
        LatencyHistogram::kSubBucketBits));

  const auto& list = read::member(json, "buckets");
  if (!list.is_array()) throw std::invalid_argument("'buckets' must be an array");
  if (list.size() > LatencyHistogram::kBucketCount)
    throw std::invalid_argument(fmt::format("{} buckets listed; the scheme has {}", list.size(),
                                            LatencyHistogram::kBucketCount));
  std::vector<LatencyHistogram::Bucket> buckets;
  buckets.reserve(list.size());
  for (std::size_t k = 0; k < list.size(); ++k) {
    const auto& entry = list[k];
    if (!entry.is_array() || entry.size() != 4 ||
        !std::all_of(entry.begin(), entry.end(), [](const auto& n) { return n.is_number_unsigned(); }))
      throw std::invalid_argument(fmt::format(
          "buckets[{}] must be [index, lowest, highest, count], four whole numbers, not {}", k, read::shown(entry)));
    const auto index = entry[0].get<std::uint64_t>();
    const auto lowest = entry[1].get<std::uint64_t>();
    const auto highest = entry[2].get<std::uint64_t>();
    if (index >= LatencyHistogram::kBucketCount || lowest != LatencyHistogram::lowest_in(index) ||
        highest != LatencyHistogram::highest_in(index))
      throw std::invalid_argument(fmt::format("buckets[{}] says bucket {} holds {}..{}: no bucket of the scheme does",
                                              k, index, lowest, highest));
    buckets.emplace_back(index, entry[3].get<std::uint64_t>());
  }
  auto histogram = LatencyHistogram::restore(buckets, read::whole(json, "min"), read::whole(json, "max"),
                                             read::non_negative(json, "sum"));
  if (const auto count = read::whole(json, "count"); count != histogram.count())
    throw std::invalid_argument(fmt::format("the histogram's count is {} but its buckets add up to {}", count,
                                            histogram.count()));
  return histogram;
}

}  // namespace sockit::tools
