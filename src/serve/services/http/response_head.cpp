#include "serve/services/http/response_head.hpp"

#include <fmt/core.h>

namespace sockit::serve::services::http {

std::string_view reason_phrase(int status) noexcept {
  switch (status) {
    case 200: return "OK";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 416: return "Range Not Satisfiable";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

ResponseHead::ResponseHead(int status, std::string_view date) : status_(status) {
  text_ = fmt::format("HTTP/1.1 {} {}\r\nServer: sockit\r\nDate: {}\r\n", status, reason_phrase(status), date);
}

ResponseHead& ResponseHead::field(std::string_view name, std::string_view value) {
  text_.append(name).append(": ").append(value).append("\r\n");
  return *this;
}

ResponseHead& ResponseHead::field(std::string_view name, std::uint64_t value) {
  return field(name, std::string_view(fmt::format("{}", value)));
}

std::string ResponseHead::finish(std::uint64_t content_length, bool close, bool http10_keep_alive) {
  field("Content-Length", content_length);
  return finish_without_length(close, http10_keep_alive);
}

std::string ResponseHead::finish_without_length(bool close, bool http10_keep_alive) {
  if (close) field("Connection", "close");
  else if (http10_keep_alive) field("Connection", "keep-alive");
  text_.append("\r\n");
  return std::move(text_);
}

std::string error_page(int status) {
  const auto title = fmt::format("{} {}", status, reason_phrase(status));
  return fmt::format("<!DOCTYPE html>\n<html><head><title>{0}</title></head><body><h1>{0}</h1></body></html>\n", title);
}

}  // namespace sockit::serve::services::http
