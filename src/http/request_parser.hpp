#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "http/chunked_body.hpp"
#include "http/line_buffer.hpp"

namespace sockit::http {

/// One header field as received; names compare case-insensitively.
struct Field {
  std::string name;
  std::string value;  ///< leading and trailing whitespace removed
};

/// A request whose line and header section are complete and valid (RFC 9112). Its body, if any,
/// is not here: the parser discards it (a static file server has no use for one).
struct Request {
  std::string method;  ///< as sent: GET, HEAD, or any other token (the server answers 405)
  std::string target;  ///< the request-target as sent (origin-form or absolute-form)
  int minor = 1;       ///< HTTP/1.minor: 0 or 1
  std::vector<Field> fields;
  /// Whether the connection may carry another request after this one's response: HTTP/1.1
  /// unless "Connection: close", HTTP/1.0 only with "Connection: keep-alive".
  bool keep_alive = true;

  /// The value of the first field called `name` (any case), or nullptr.
  const std::string* field(std::string_view name) const noexcept;
};

/// Why a request cannot be served; the server answers `status` and closes the connection.
struct ParseError {
  int status = 400;    ///< 400, 413, 414, 431, 501 or 505
  std::string reason;  ///< one line for the log: "header line 3 has no colon"
  /// The body of a request already returned was bad: that request has had its answer, and the
  /// connection closes without another.
  bool in_body = false;
};

/// The limits of what one request may hold, nginx-like.
struct ParserLimits {
  std::size_t max_request_line = 8 * 1024;      ///< without its line end; longer: 414
  /// The whole header section, its line ends and final empty line included; longer: 431.
  /// A chunked body's trailer section has the same limit, and max_fields.
  std::size_t max_header_bytes = 32 * 1024;
  std::size_t max_fields = 100;                 ///< more: 431
  std::uint64_t max_body = 1024 * 1024;         ///< a body to discard beyond this: 413
};

/// An incremental HTTP/1.x request parser without I/O: bytes go in split anywhere, requests come
/// out one at a time, in order; a body (Content-Length or chunked) is read and discarded. Memory
/// is bounded by the limits whatever arrives: it keeps at most one header section.
///
///   Step step = parser.feed(bytes);   // consumed step.consumed bytes from the front
///   request -> parser.request() is valid until the next feed(); feed the rest again
///   error   -> parser.error(); the connection must close (nothing more is parsed)
///   need_more -> everything offered was consumed; feed what arrives next
///
/// The request is returned as soon as its header section is complete; its body (if any) is
/// consumed by the following feed() calls before the next request is parsed. So a chunked body
/// that turns out bad (400) or too large (413) is an error of a later feed(), after its request.
///
/// Rejected with 400: bad syntax anywhere, a NUL or other control byte, whitespace between a
/// field name and its colon, obs-fold (a line starting with space or tab), no Host or more than
/// one Host on HTTP/1.1 (more than one on 1.0 too), a Content-Length that is not digits or
/// appears twice, Transfer-Encoding together with Content-Length, Transfer-Encoding on HTTP/1.0,
/// a bad chunk (a chunk-size line over 4 KiB too). 501: a transfer coding other than exactly
/// "chunked". 505: a version other than HTTP/1.0 or HTTP/1.1. Empty lines before a request line
/// are skipped (RFC 9112 2.2); a bare LF ends a line like CRLF.
class RequestParser {
 public:
  enum class Kind { need_more, request, error };
  struct Step {
    std::size_t consumed = 0;
    Kind kind = Kind::need_more;
  };

  explicit RequestParser(ParserLimits limits = {}) : limits_(limits), chunked_(limits) {}

  Step feed(std::span<const std::byte> in);
  const Request& request() const noexcept { return request_; }
  const ParseError& error() const noexcept { return error_; }
  /// True while part of a request (its line, header section or body) has arrived and the rest
  /// has not: Session::mid_request.
  bool mid_request() const noexcept;

 private:
  enum class Phase { request_line, fields, body, chunked, failed };

  Step take_line(std::string_view in, std::size_t& used);
  Step finish_header_section(std::size_t used);
  Step fail(std::size_t used, ParseError error);

  ParserLimits limits_;
  Request request_;
  ParseError error_;
  Phase phase_ = Phase::request_line;
  LineBuffer line_;              ///< the request line or field line arriving now
  std::size_t header_bytes_ = 0;  ///< of the header section so far, line ends included
  std::uint64_t body_left_ = 0;   ///< of a Content-Length body being discarded
  ChunkedBody chunked_;
};

}  // namespace sockit::http
