#pragma once

#include <string>
#include <string_view>

namespace sockit::tools {

/// The parts of an `http://` URL that `sockit bench http` needs (RFC 9110 section 4.2.1).
struct HttpUrl {
  std::string host;       ///< as written, an IPv6 address without its brackets
  std::string port;       ///< "80" when the URL gives none
  std::string path;       ///< the request-target: "/" at least, query kept, fragment dropped
  std::string authority;  ///< the Host field: host[:port] as written in the URL
};

/// Splits `http://HOST[:PORT][/PATH][?QUERY][#FRAGMENT]` (the scheme in any case; HOST may be
/// [V6ADDR]). Only splits: whether HOST and PORT make sense is the caller's to check. Throws
/// std::invalid_argument saying what is wrong: another scheme, user information, an empty host
/// or port, a path byte that must be percent-encoded (controls, space, non-ASCII).
HttpUrl parse_http_url(std::string_view text);

/// Whether `text` is meant as a URL (it has a "scheme://").
bool looks_like_url(std::string_view text) noexcept;

}  // namespace sockit::tools
