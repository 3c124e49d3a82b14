#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace sockit::serve::services::http {

/// The access log in the Common Log Format, one line per response:
///   127.0.0.1 - - [01/Dec/2026:17:45:00 +0000] "GET /a.css HTTP/1.1" 200 1234
/// Whole lines even from many threads (each line is one write). Times are UTC.
class AccessLog {
 public:
  /// `path` "-" is standard output; any other path is opened for appending (created 0644).
  /// Throws net::Error naming the path when it cannot be opened.
  explicit AccessLog(const std::string& path);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  /// `peer` as the models name it ("127.0.0.1:5000", "[::1]:5000"): the port is left out.
  void write(std::string_view peer, std::int64_t unix_seconds, std::string_view request_line, int status,
             std::uint64_t body_bytes);

 private:
  int fd_;
  bool owned_;
  std::mutex mutex_;
};

/// "01/Dec/2026:17:45:00 +0000".
std::string clf_time(std::int64_t unix_seconds);

}  // namespace sockit::serve::services::http
