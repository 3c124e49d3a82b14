#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "http/mime_types.hpp"
#include "http/request_parser.hpp"
#include "serve/output.hpp"
#include "serve/services/http/file_store.hpp"

namespace sockit::serve::services::http {

/// How a response went, for the access log.
struct Answered {
  int status = 200;
  std::uint64_t body_bytes = 0;
};

/// How the connection goes on after a response: closes, or stays (and an HTTP/1.0 client that
/// asked for keep-alive is told so).
struct Persistence {
  bool close = false;
  bool http10_keep_alive = false;
};

/// Turns one request into its response: a static file (whole, a range, several ranges as
/// multipart/byteranges, or 304), a directory's index.html or listing, a redirect, or an error.
/// Bodies are file ranges, sent with sendfile. Shared by every session of a server: thread-safe.
class Responder {
 public:
  Responder(FileStore& files, const sockit::http::MimeTypes& types, bool autoindex)
      : files_(files), types_(types), autoindex_(autoindex) {}

  Answered respond(const sockit::http::Request& request, Persistence persistence, std::string_view date,
                   Output& out) const;

  /// A response that is only `status`'s error page (no body for HEAD); `fields` are extra header
  /// lines, each ending in CRLF.
  static Answered error(int status, bool head, Persistence persistence, std::string_view date, Output& out,
                        std::string_view fields = {});

 private:
  Answered file(const sockit::http::Request& request, const std::string& path, Entry entry, Persistence persistence,
                std::string_view date, Output& out) const;
  Answered listing(const sockit::http::Request& request, const std::string& path, const Entry& dir,
                   Persistence persistence, std::string_view date, Output& out) const;

  FileStore& files_;
  const sockit::http::MimeTypes& types_;
  bool autoindex_;
};

}  // namespace sockit::serve::services::http
