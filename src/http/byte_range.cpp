#include "http/byte_range.hpp"

#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "http/syntax.hpp"

namespace sockit::http {

namespace {

struct Spec {
  std::optional<std::uint64_t> first;  ///< nullopt: a suffix range
  std::optional<std::uint64_t> last;   ///< nullopt: to the end; the suffix length for a suffix range
};

// range-spec = first-pos "-" [ last-pos ] / "-" suffix-length (RFC 9110 14.1.1); numbers too
// large to hold are saturated, which keeps their meaning (beyond any end).
std::optional<Spec> parse_spec(std::string_view text) {
  const auto dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  const auto before = text.substr(0, dash);
  const auto after = text.substr(dash + 1);
  Spec spec;
  if (!before.empty() && !(spec.first = parse_decimal(before))) return std::nullopt;
  if (!after.empty() && !(spec.last = parse_decimal(after))) return std::nullopt;
  if (!spec.first && !spec.last) return std::nullopt;
  if (spec.first && spec.last && *spec.last < *spec.first) return std::nullopt;
  return spec;
}

// The bytes `spec` selects of `size`, or nullopt when it selects none (14.1.1: satisfiable).
std::optional<ByteRange> select(const Spec& spec, std::uint64_t size) {
  if (!spec.first) {
    if (*spec.last == 0 || size == 0) return std::nullopt;
    return ByteRange{size - std::min(*spec.last, size), size - 1};
  }
  if (*spec.first >= size) return std::nullopt;
  return ByteRange{*spec.first, std::min(spec.last.value_or(size - 1), size - 1)};
}

std::vector<ByteRange> sorted_and_merged(std::vector<ByteRange> ranges) {
  std::sort(ranges.begin(), ranges.end(), [](const ByteRange& a, const ByteRange& b) { return a.first < b.first; });
  std::vector<ByteRange> merged;
  for (const auto& range : ranges) {
    // last < size <= UINT64_MAX, so last + 1 cannot wrap.
    if (!merged.empty() && range.first <= merged.back().last + 1) {
      merged.back().last = std::max(merged.back().last, range.last);
    } else {
      merged.push_back(range);
    }
  }
  return merged;
}

}  // namespace

RangeRequest parse_range(std::string_view value, std::uint64_t size, std::size_t max_parts) {
  const auto equals = value.find('=');
  if (equals == std::string_view::npos || !iequals(value.substr(0, equals), "bytes")) return {};
  std::vector<Spec> specs;
  bool malformed = false;
  for_each_element(value.substr(equals + 1), [&](std::string_view element) {
    if (element.empty() || malformed) return;  // empty list elements are allowed (RFC 9110 5.6.1)
    const auto spec = parse_spec(element);
    if (!spec || specs.size() == max_parts) {
      malformed = true;  // too many parts is ignored like a malformed header
      return;
    }
    specs.push_back(*spec);
  });
  if (malformed || specs.empty()) return {};
  RangeRequest request;
  for (const auto& spec : specs) {
    if (const auto range = select(spec, size)) request.ranges.push_back(*range);
  }
  if (request.ranges.empty()) {
    request.kind = RangeRequest::Kind::unsatisfiable;
    return request;
  }
  request.kind = RangeRequest::Kind::satisfiable;
  request.ranges = sorted_and_merged(std::move(request.ranges));
  return request;
}

std::uint64_t Multipart::body_length() const noexcept {
  std::uint64_t n = tail.size();
  for (const auto& part : parts) n += part.head.size() + part.range.length();
  return n;
}

Multipart multipart(const std::vector<ByteRange>& ranges, std::uint64_t size, std::string_view content_type,
                    std::string_view boundary) {
  // Every part, the first too, starts with CRLF: an empty preamble (RFC 2046 5.1.1), as nginx.
  Multipart body;
  for (const auto& range : ranges) {
    std::string head = fmt::format("\r\n--{}\r\n", boundary);
    if (!content_type.empty()) head += fmt::format("Content-Type: {}\r\n", content_type);
    head += fmt::format("Content-Range: bytes {}-{}/{}\r\n\r\n", range.first, range.last, size);
    body.parts.push_back({std::move(head), range});
  }
  body.tail = fmt::format("\r\n--{}--\r\n", boundary);
  return body;
}

}  // namespace sockit::http
