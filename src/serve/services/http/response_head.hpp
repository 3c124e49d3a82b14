#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sockit::serve::services::http {

/// "Not Found" for 404: the reason phrase of every status this server sends.
std::string_view reason_phrase(int status) noexcept;

/// A response's status line and header section, built field by field:
///   ResponseHead head(200, date);  head.field("Content-Type", type);  ...  out.append(head.finish(...));
/// Every response gets Date and Server; finish() adds Content-Length and the Connection field
/// (close when `close`, keep-alive for an HTTP/1.0 client that asked for it).
class ResponseHead {
 public:
  ResponseHead(int status, std::string_view date);
  ResponseHead& field(std::string_view name, std::string_view value);
  ResponseHead& field(std::string_view name, std::uint64_t value);
  std::string finish(std::uint64_t content_length, bool close, bool http10_keep_alive);
  /// For 304, which has no body and whose length would be the 200's: no Content-Length.
  std::string finish_without_length(bool close, bool http10_keep_alive);
  int status() const noexcept { return status_; }

 private:
  int status_;
  std::string text_;
};

/// A small HTML page saying `status` and its reason: the body of every error.
std::string error_page(int status);

}  // namespace sockit::serve::services::http
