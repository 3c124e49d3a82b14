#include "http/field_line.hpp"

#include <algorithm>

#include "http/syntax.hpp"

namespace sockit::http {

const char* parse_field_line(std::string_view line, Field& field) {
  if (line.empty()) return "is empty";
  // RFC 9112 5.2: obs-fold is rejected, not unfolded.
  if (is_ows(line.front())) return "starts with whitespace (obs-fold)";
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return "has no colon";
  const auto name = line.substr(0, colon);
  // RFC 9112 5.1: whitespace before the colon has smuggled requests past proxies.
  if (!name.empty() && is_ows(name.back())) return "has whitespace before its colon";
  if (!is_token(name)) return "has a field name that is not a token";
  const auto value = trim_ows(line.substr(colon + 1));
  if (!is_field_value(value)) return "has a control byte in its value";
  field.name.assign(name);
  field.value.assign(value);
  return nullptr;
}

namespace {

ParseError bad_line(std::string reason) { return {400, "request line " + std::move(reason)}; }

bool is_target(std::string_view target) {
  return !target.empty() && std::none_of(target.begin(), target.end(), [](char c) { return c == ' ' || is_control(c); });
}

}  // namespace

std::optional<ParseError> parse_request_line(std::string_view line, Request& request) {
  // Exactly one SP between the three parts (RFC 9112 3): anything looser is a parsing
  // difference an attacker can use between us and a proxy.
  const auto first_space = line.find(' ');
  const auto last_space = line.rfind(' ');
  if (first_space == std::string_view::npos || first_space == last_space) return bad_line("has not three parts");
  const auto method = line.substr(0, first_space);
  const auto target = line.substr(first_space + 1, last_space - first_space - 1);
  const auto version = line.substr(last_space + 1);
  if (!is_token(method)) return bad_line("has a method that is not a token");
  if (!is_target(target)) return bad_line("has a target with a space or control byte");
  if (version.size() != 8 || !version.starts_with("HTTP/") || !is_digit(version[5]) || version[6] != '.' ||
      !is_digit(version[7]))
    return bad_line("has no HTTP version");
  if (version[5] != '1' || (version[7] != '0' && version[7] != '1'))
    return ParseError{505, "HTTP version " + std::string(version.substr(5)) + " is not supported"};
  request.method.assign(method);
  request.target.assign(target);
  request.minor = version[7] - '0';
  return std::nullopt;
}

}  // namespace sockit::http
