#include "http/framing.hpp"

#include <string>

#include "http/syntax.hpp"

namespace sockit::http {

namespace {

ParseError bad_framing(std::string reason) { return {400, std::move(reason)}; }

// Whether any Connection field lists `option` (RFC 9110 7.6.1: case-insensitive tokens).
bool connection_has(const Request& request, std::string_view option) {
  bool found = false;
  for (const auto& field : request.fields) {
    if (!iequals(field.name, "connection")) continue;
    for_each_element(field.value, [&](std::string_view element) { found = found || iequals(element, option); });
  }
  return found;
}

std::optional<ParseError> check_host(const Request& request) {
  std::size_t hosts = 0;
  for (const auto& field : request.fields) hosts += iequals(field.name, "host") ? 1 : 0;
  // RFC 9112 3.2: HTTP/1.1 needs exactly one; two disagree on where the request goes, whatever
  // the version.
  if (hosts > 1) return bad_framing("more than one Host");
  if (hosts == 0 && request.minor == 1) return bad_framing("no Host in an HTTP/1.1 request");
  return std::nullopt;
}

// The one Transfer-Encoding a server must understand (RFC 9112 6.1): "chunked" alone.
std::optional<ParseError> check_codings(const Request& request) {
  std::size_t chunked = 0;
  std::optional<ParseError> error;
  for (const auto& field : request.fields) {
    if (!iequals(field.name, "transfer-encoding")) continue;
    for_each_element(field.value, [&](std::string_view coding) {
      if (error && error->status == 400) return;
      if (coding.empty()) {
        error = bad_framing("an empty transfer coding");
      } else if (iequals(coding, "chunked")) {
        ++chunked;
      } else if (!error) {
        error = ParseError{501, "transfer coding " + std::string(coding) + " is not supported"};
      }
    });
  }
  if (error) return error;
  if (chunked > 1) return bad_framing("chunked applied more than once");
  return std::nullopt;
}

}  // namespace

std::optional<ParseError> frame_request(Request& request, const ParserLimits& limits, Framing& framing) {
  if (auto error = check_host(request)) return error;
  const Field* length = nullptr;
  bool transfer_encoding = false;
  for (const auto& field : request.fields) {
    if (iequals(field.name, "content-length")) {
      // Even the same value twice: a proxy that takes the other one is how smuggling starts.
      if (length) return bad_framing("Content-Length appears twice");
      length = &field;
    }
    transfer_encoding = transfer_encoding || iequals(field.name, "transfer-encoding");
  }
  request.keep_alive = request.minor == 1 ? !connection_has(request, "close")
                                          : connection_has(request, "keep-alive") && !connection_has(request, "close");
  framing = {};
  if (transfer_encoding) {
    if (request.minor == 0) return bad_framing("Transfer-Encoding in an HTTP/1.0 request");
    if (length) return bad_framing("Transfer-Encoding together with Content-Length");
    if (auto error = check_codings(request)) return error;
    framing.body = Framing::Body::chunked;
    return std::nullopt;
  }
  if (length) {
    const auto n = parse_decimal(length->value);
    if (!n) return bad_framing("Content-Length is not a number");
    // Saturated at 2^64-1, so a length too large to hold is still too large here.
    if (*n > limits.max_body) return ParseError{413, "Content-Length is over the body limit"};
    framing.body = *n > 0 ? Framing::Body::length : Framing::Body::none;
    framing.length = *n;
  }
  return std::nullopt;
}

}  // namespace sockit::http
