#pragma once

#include <optional>
#include <string_view>

#include "http/request_parser.hpp"

namespace sockit::http {

/// Splits a field line ("Name: value", RFC 9112 5) into `field`: nullptr, or why the line is bad
/// ("has no colon"). The same rules hold for header and trailer lines.
const char* parse_field_line(std::string_view line, Field& field);

/// Splits a request line ("GET /x HTTP/1.1", RFC 9112 3) into `request`'s method, target and
/// minor version; nullopt, or the error (400 for syntax, 505 for another version).
std::optional<ParseError> parse_request_line(std::string_view line, Request& request);

}  // namespace sockit::http
