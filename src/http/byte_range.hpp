#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sockit::http {

/// Bytes first..last of a representation, both included (RFC 9110 14.1.2).
struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  std::uint64_t length() const noexcept { return last - first + 1; }
};

/// What a Range header asks of a representation of `size` bytes.
struct RangeRequest {
  enum class Kind {
    whole,          ///< no Range, or one to ignore (not "bytes=", malformed, too many parts): 200
    satisfiable,    ///< `ranges` (at least one): 206
    unsatisfiable,  ///< every range starts at or beyond the end: 416 with "bytes */size"
  };
  Kind kind = Kind::whole;
  std::vector<ByteRange> ranges;  ///< sorted, overlapping and adjacent ones merged
};

/// Parses a Range header value ("bytes=0-99,200-,-50") against `size`. Defends against the
/// "Apache killer" (CVE-2011-3192): more than `max_parts` parts is ignored (whole), and ranges
/// are merged, so a response never carries more than `size` bytes plus part headers.
RangeRequest parse_range(std::string_view value, std::uint64_t size, std::size_t max_parts = 32);

/// One part of a multipart/byteranges body (RFC 9110 14.6): the part's header text (boundary
/// line, Content-Type, Content-Range, blank line) and the range whose bytes follow it.
struct Part {
  std::string head;
  ByteRange range;
};
/// The parts for `ranges` of a `size`-byte representation of `content_type`, and the closing
/// delimiter; body_length() is what Content-Length must say.
struct Multipart {
  std::vector<Part> parts;
  std::string tail;
  std::uint64_t body_length() const noexcept;
};
Multipart multipart(const std::vector<ByteRange>& ranges, std::uint64_t size, std::string_view content_type,
                    std::string_view boundary);

}  // namespace sockit::http
