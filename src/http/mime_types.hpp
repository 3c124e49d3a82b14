#pragma once

#include <string>
#include <string_view>
#include <unordered_map>

namespace sockit::http {

/// Media types by file name extension, read from a mime.types file (Debian's media-types
/// package: /etc/mime.types; "type ext1 ext2 ..." per line, '#' comments).
class MimeTypes {
 public:
  static constexpr std::string_view kDefault = "application/octet-stream";

  /// Reads `path`; a missing or unreadable file gives a small built-in table (html, css, js,
  /// json, txt, png, jpg, gif, svg, webp, ico, mp4, webm, pdf, wasm) and never fails. The
  /// built-in table also fills in what a file lacks; an extension the file lists twice keeps
  /// its first type.
  static MimeTypes load(const std::string& path = "/etc/mime.types");
  /// The type for `file_name`'s extension (case-insensitive), or kDefault. text/* types and
  /// JavaScript, JSON and SVG get "; charset=utf-8".
  std::string_view type_for(std::string_view file_name) const;

 private:
  std::unordered_map<std::string, std::string> by_extension_;
};

}  // namespace sockit::http
