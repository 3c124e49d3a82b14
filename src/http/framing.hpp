#pragma once

#include <cstdint>
#include <optional>

#include "http/request_parser.hpp"

namespace sockit::http {

/// How a request's body is delimited (RFC 9112 6.3).
struct Framing {
  enum class Body { none, length, chunked };
  Body body = Body::none;
  std::uint64_t length = 0;  ///< for Body::length
};

/// Checks a complete header section against the rules that keep requests from being smuggled
/// (Host, Content-Length, Transfer-Encoding), sets `request.keep_alive`, and says how the body
/// is framed; or the error.
std::optional<ParseError> frame_request(Request& request, const ParserLimits& limits, Framing& framing);

}  // namespace sockit::http
