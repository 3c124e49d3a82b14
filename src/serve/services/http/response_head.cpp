#include "serve/services/http/response_head.hpp"

#include <fmt/core.h>

#include <charconv>

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
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

ResponseHead::ResponseHead(int status, std::string_view date) : status_(status) {
  // Plain appends, not fmt: this runs for every response (a 100 B file's head is most of its cost).
  char code[4] = {static_cast<char>('0' + status / 100 % 10), static_cast<char>('0' + status / 10 % 10),
                  static_cast<char>('0' + status % 10), ' '};
  text_.reserve(256);
  text_.append("HTTP/1.1 ").append(code, sizeof code).append(reason_phrase(status));
  text_.append("\r\nServer: sockit\r\nDate: ").append(date).append("\r\n");
}

ResponseHead& ResponseHead::field(std::string_view name, std::string_view value) {
  text_.append(name).append(": ").append(value).append("\r\n");
  return *this;
}

ResponseHead& ResponseHead::field(std::string_view name, std::uint64_t value) {
  char digits[20];
  const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  return field(name, std::string_view(digits, static_cast<std::size_t>(end - digits)));
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
