#include "http/target_path.hpp"

#include <algorithm>
#include <vector>

#include "http/syntax.hpp"

namespace sockit::http {

namespace {

// absolute-form (RFC 9112 3.2.2): "http://host[:port]/path?query" -> "/path?query", where the
// path may be empty ("http://host?q").
std::string_view strip_scheme_and_authority(std::string_view target, bool& absolute) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (target.size() >= scheme.size() && iequals(target.substr(0, scheme.size()), scheme)) {
      absolute = true;
      const auto rest = target.substr(scheme.size());
      return rest.substr(std::min(rest.find_first_of("/?"), rest.size()));
    }
  }
  return target;
}

// %XX decoded, once; nullopt for a '%' without two hex digits after it.
std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int high = hex_value(text[i + 1]);
    const int low = hex_value(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

}  // namespace

std::optional<TargetPath> resolve_target(std::string_view target) {
  TargetPath result;
  bool absolute = false;
  target = strip_scheme_and_authority(target, absolute);
  const auto question = target.find('?');
  if (question != std::string_view::npos) {
    result.query.assign(target.substr(question + 1));
    target = target.substr(0, question);
  }
  if (absolute && target.empty()) target = "/";
  if (!target.starts_with('/')) return std::nullopt;
  const auto decoded = percent_decode(target);
  if (!decoded) return std::nullopt;
  std::vector<std::string_view> segments;
  std::string_view rest = *decoded;
  bool directory = false;
  while (!rest.empty()) {
    const auto slash = rest.find('/');
    const auto segment = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    directory = slash != std::string_view::npos || segment == "." || segment == "..";
    for (char c : segment) {
      // A backslash separates on other systems, and a NUL ends a C string early.
      if (c == '\\' || is_control(c)) return std::nullopt;
    }
    if (segment.empty() || segment == ".") continue;
    if (segment == "..") {
      if (segments.empty()) return std::nullopt;  // would climb above the root
      segments.pop_back();
      continue;
    }
    segments.push_back(segment);
  }
  for (const auto segment : segments) {
    if (!result.path.empty()) result.path += '/';
    result.path += segment;
  }
  result.directory = directory || segments.empty();
  if (result.directory && !result.path.empty()) result.path += '/';
  return result;
}

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string url_encode(std::string_view segment) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(segment.size());
  for (char c : segment) {
    const auto u = static_cast<unsigned char>(c);
    const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-' ||
                            c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

}  // namespace sockit::http
