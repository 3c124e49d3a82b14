#pragma once

// RFC 9112 (HTTP/1.1 message syntax) from the client's side: the responses `sockit bench http`
// reads. Strict where a lie could desynchronise the stream (framing: RFC 9112 section 6.3),
// bounded in memory whatever the server sends.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "net/io.hpp"

namespace sockit::tools {

/// Follows one response at a time through bytes that arrive in any pieces, without copying
/// bodies: the status line and header section (kept only while they straddle two pieces), then
/// the body framed by Content-Length, chunked transfer coding (extensions and trailers read and
/// dropped), no body (HEAD, 204, 304), or the end of the connection. Interim 1xx responses
/// (100, 102, 103) before the final one are skipped. Pipelined responses: reset() after each
/// complete one, feed the rest.
class HttpResponseParser {
 public:
  static constexpr std::size_t kMaxHead = 64 * 1024;   ///< status line and header section
  static constexpr std::size_t kMaxChunkLine = 512;    ///< chunk size, extensions and CRLF
  static constexpr std::size_t kMaxTrailers = 64 * 1024;

  enum class Status { incomplete, complete, bad };
  struct Step {
    std::size_t used = 0;  ///< bytes taken, never past the end of the response
    Status status = Status::incomplete;
  };

  /// `head_request`: the response answers HEAD, so it has no body whatever its fields say.
  explicit HttpResponseParser(bool head_request = false) noexcept : head_request_(head_request) {}

  /// Takes bytes of the current response. complete: the response ended at `used`; bad: the
  /// stream cannot be trusted any more (what() says why) and the connection must be closed.
  /// After complete or bad, feeds take nothing until reset().
  Step feed(net::ConstBytes bytes);
  /// The connection ended: complete if the body is the rest of the connection (no framing
  /// given), bad if the response was cut short (or none began: what() says which).
  Status finish();
  void reset() noexcept;

  /// The final status code (100-599), once the head is complete; 0 before.
  int status_code() const noexcept { return code_; }
  /// Whether the connection may carry another response: HTTP/1.1 unless "Connection: close",
  /// HTTP/1.0 only with "Connection: keep-alive", never for a body delimited by the close.
  bool keep_alive() const noexcept { return keep_alive_; }
  /// Body bytes of the current response so far (chunked: the data only).
  std::uint64_t body_bytes() const noexcept { return body_bytes_; }
  /// Bytes of the current response seen so far, interim responses included.
  std::uint64_t progress() const noexcept { return progress_; }
  /// Why the response is bad ("chunk size over 15 hex digits"); empty otherwise.
  std::string_view what() const noexcept { return what_; }

 private:
  enum class State { head, fixed, chunk_line, chunk_data, chunk_data_end, trailers, until_close, done, bad };

  std::size_t take_head(std::string_view in);
  void parse_head(std::string_view head);
  /// A whole line (without its CRLF or LF) once it is complete, else nullopt (kept in pending_,
  /// which the caller clears after using the line); `used` bytes of `in` taken. Longer than
  /// `limit` with its line end: fails.
  std::optional<std::string_view> take_line(std::string_view in, std::size_t limit, std::size_t* used);
  void chunk_line(std::string_view line);
  void trailer_line(std::string_view line);
  void fail(const char* why) noexcept;

  bool head_request_;
  State state_ = State::head;
  int code_ = 0;
  bool keep_alive_ = true;
  std::uint64_t remaining_ = 0;  // fixed: body bytes left; chunk_data: bytes of this chunk left
  std::uint64_t body_bytes_ = 0;
  std::uint64_t progress_ = 0;
  std::size_t trailer_bytes_ = 0;  // of the trailer section so far
  std::size_t scanned_ = 0;  // bytes of pending_ already searched for the end of the head
  std::string pending_;      // a head or line not yet complete
  const char* what_ = "";
};

}  // namespace sockit::tools
