#include "tools/http_url.hpp"

#include <algorithm>
#include <stdexcept>

namespace sockit::tools {
namespace {

[[noreturn]] void reject(std::string_view url, std::string_view why) {
  throw std::invalid_argument("'" + std::string(url) + "' is not an http:// URL: " + std::string(why));
}

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         // (every byte of the prefixes has bit 0x20 set: letters lower-case, ":" and "/")
         std::equal(prefix.begin(), prefix.end(), text.begin(), [](char p, char t) { return p == (t | 0x20); });
}

}  // namespace

bool looks_like_url(std::string_view text) noexcept { return text.find("://") != std::string_view::npos; }

HttpUrl parse_http_url(std::string_view text) {
  constexpr std::string_view kScheme = "http://";
  if (!starts_with_ignoring_case(text, kScheme)) {
    if (starts_with_ignoring_case(text, "https://")) reject(text, "https needs TLS, which sockit bench does not speak");
    reject(text, "it must start with http://");
  }
  std::string_view rest = text.substr(kScheme.size());
  const auto authority_end = std::min(rest.find_first_of("/?#"), rest.size());
  const auto authority = rest.substr(0, authority_end);
  std::string_view path = rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) reject(text, "user information (user@) is not supported");

  HttpUrl url;
  url.authority = std::string(authority);
  std::string_view port;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) reject(text, "'[' without ']'");
    url.host = std::string(authority.substr(1, close - 1));
    const auto after = authority.substr(close + 1);
    if (!after.empty() && after.front() != ':') reject(text, "only :PORT may follow ']'");
    if (!after.empty()) port = after.substr(1);
    if (after == ":") reject(text, "the port after ':' is empty");
  } else {
    const auto colon = authority.find(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) reject(text, "the port after ':' is empty");
      if (port.find(':') != std::string_view::npos) reject(text, "an IPv6 address needs brackets: http://[::1]:8080/");
    }
  }
  if (url.host.empty()) reject(text, "the host is empty");
  url.port = port.empty() ? "80" : std::string(port);

  path = path.substr(0, path.find('#'));  // a fragment is the client's own (RFC 9110 section 4.2.5)
  if (std::any_of(path.begin(), path.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u <= 0x20 || u >= 0x7f;
      }))
    reject(text, "spaces, controls and non-ASCII bytes in the path must be percent-encoded");
  // Appended, not "/" + path: g++ 12's -Wrestrict misfires on that at -O3.
  if (path.empty() || path.front() != '/') url.path.push_back('/');
  url.path.append(path);
  return url;
}

}  // namespace sockit::tools
