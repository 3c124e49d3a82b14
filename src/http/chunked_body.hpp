#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/line_buffer.hpp"

namespace sockit::http {

struct ParserLimits;
struct ParseError;

/// Reads and discards one chunked body (RFC 9112 7.1): chunk-size lines with extensions, chunk
/// data, the last chunk and the trailer section. Holds at most one line, bounded.
class ChunkedBody {
 public:
  /// The longest chunk-size line, extensions and line end included; longer is a bad chunk.
  static constexpr std::size_t kMaxSizeLine = 4096;

  enum class State { reading, done, failed };
  struct Step {
    std::size_t consumed = 0;
    State state = State::reading;
  };

  explicit ChunkedBody(const ParserLimits& limits);

  /// Takes bytes from the front of `in`: done once the body ended (the rest is the next
  /// request's), failed with `error` set (400 bad chunk, 413 over max_body, 431 trailers too large).
  Step feed(std::string_view in, ParseError& error);
  /// Starts a new body.
  void reset() noexcept;

 private:
  enum class Phase { size_line, data, data_end, trailer };

  State take_line(std::string_view line, ParseError& error);
  State take_size_line(std::string_view line, ParseError& error);
  State take_trailer_line(std::string_view line, std::size_t raw_size, ParseError& error);

  std::uint64_t max_body_;
  std::size_t max_trailer_bytes_;
  std::size_t max_trailer_fields_;
  LineBuffer line_;
  Phase phase_ = Phase::size_line;
  std::uint64_t data_left_ = 0;    ///< of the current chunk
  std::uint64_t total_ = 0;        ///< data bytes so far
  std::size_t trailer_bytes_ = 0;
  std::size_t trailer_fields_ = 0;
};

}  // namespace sockit::http
