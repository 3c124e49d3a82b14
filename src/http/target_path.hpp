#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sockit::http {

/// A request-target made into a path beneath the server's root.
struct TargetPath {
  std::string path;     ///< decoded, normalised, relative: "" for the root, "a/b.txt", "dir/"
  std::string query;    ///< after '?', as sent (not decoded)
  bool directory = false;  ///< the decoded path ended in '/' (or is the root)
};

/// Turns a request-target (origin-form "/a/b?q", or absolute-form "http://host/a/b") into a path
/// beneath the root: the query is split off, %XX is decoded (a '%' not followed by two hex digits
/// is an error), "." segments and empty segments are dropped and ".." removes the segment
/// before it. nullopt (400) for: no leading '/', a NUL or other control byte after decoding, a
/// ".." that would climb above the root, a backslash (never a separator here, but one on other
/// systems). Decoding happens once: "%252e" is the file "%2e", never "." (double encoding).
std::optional<TargetPath> resolve_target(std::string_view target);

/// Text for HTML: & < > " ' escaped.
std::string html_escape(std::string_view text);
/// A path segment for a URL: everything but unreserved characters (RFC 3986) as %XX.
std::string url_encode(std::string_view segment);

}  // namespace sockit::http
