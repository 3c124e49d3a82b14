// parse_range (src/http/byte_range.hpp) on any Range value against any size and part limit:
// what it selects is sorted, disjoint (merged when adjacent), within the representation and
// never more than it in total, so a multipart answer stays below size plus part heads; sent
// again they select the same; and multipart()'s body_length() is the sum of its pieces.
#include <fuzzer/FuzzedDataProvider.h>

#include <string>

#include "http/byte_range.hpp"
#include "support/check.hpp"

using namespace sockit;
using Kind = http::RangeRequest::Kind;

namespace {

void check_ranges(const http::RangeRequest& request, std::uint64_t size, std::size_t max_parts) {
  if (request.kind != Kind::satisfiable) {
    fuzz::require(request.ranges.empty(), "ranges in a request that is not satisfiable");
    return;
  }
  fuzz::require(!request.ranges.empty(), "satisfiable without ranges");
  fuzz::require(request.ranges.size() <= max_parts, "more ranges than parts allowed");
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < request.ranges.size(); ++i) {
    const auto& range = request.ranges[i];
    fuzz::require(range.first <= range.last && range.last < size, "a range outside the representation");
    if (i > 0) fuzz::require(range.first > request.ranges[i - 1].last + 1, "ranges not sorted, or overlapping or adjacent");
    total += range.length();
  }
  fuzz::require(total <= size, "more bytes selected than the representation has");
}

// The ranges written back as a header select themselves again: merging is complete.
void check_stable(const http::RangeRequest& request, std::uint64_t size) {
  std::string again = "bytes=";
  for (const auto& range : request.ranges) again += std::to_string(range.first) + "-" + std::to_string(range.last) + ",";
  const auto reparsed = http::parse_range(again, size, request.ranges.size());
  fuzz::require(reparsed.kind == http::RangeRequest::Kind::satisfiable && reparsed.ranges.size() == request.ranges.size(),
                "the merged ranges, sent again, are not the same ranges");
  for (std::size_t i = 0; i < reparsed.ranges.size(); ++i) {
    fuzz::require(reparsed.ranges[i].first == request.ranges[i].first && reparsed.ranges[i].last == request.ranges[i].last,
                  "the merged ranges, sent again, are not the same ranges");
  }
}

void check_multipart(const std::vector<http::ByteRange>& ranges, std::uint64_t size) {
  const auto body = http::multipart(ranges, size, "text/plain", "BOUNDARY");
  fuzz::require(body.parts.size() == ranges.size(), "a part per range");
  std::uint64_t length = body.tail.size();
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    const auto& part = body.parts[i];
    const auto content_range = "Content-Range: bytes " + std::to_string(ranges[i].first) + "-" +
                               std::to_string(ranges[i].last) + "/" + std::to_string(size) + "\r\n\r\n";
    fuzz::require(part.head.starts_with("\r\n--BOUNDARY\r\n") && part.head.ends_with(content_range), "a malformed part head");
    length += part.head.size() + ranges[i].last - ranges[i].first + 1;
  }
  fuzz::require(body.tail == "\r\n--BOUNDARY--\r\n", "a malformed closing delimiter");
  fuzz::require(body.body_length() == length, "body_length() is not the sum of the pieces");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider fdp(data, size);
  const auto representation = fdp.ConsumeBool() ? fdp.ConsumeIntegralInRange<std::uint64_t>(0, 1000)
                                                 : fdp.ConsumeIntegral<std::uint64_t>();
  const auto max_parts = fdp.ConsumeIntegralInRange<std::size_t>(0, 40);
  const auto value = fdp.ConsumeRemainingBytesAsString();
  const auto request = http::parse_range(value, representation, max_parts);
  check_ranges(request, representation, max_parts);
  if (request.kind != Kind::satisfiable) return 0;
  check_stable(request, representation);
  check_multipart(request.ranges, representation);
  return 0;
}
