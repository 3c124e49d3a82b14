#include "serve/connection_log.hpp"

#include <fmt/core.h>

#include "net/text.hpp"

namespace sockit::serve {

std::string_view refusal_name(ConnectionRefusal reason) noexcept {
  switch (reason) {
    case ConnectionRefusal::max_conns: return "max-conns";
    case ConnectionRefusal::per_source: return "per-source";
    case ConnectionRefusal::rate: return "rate";
    case ConnectionRefusal::denied: return "denied";
    case ConnectionRefusal::out_of_descriptors: return "out-of-descriptors";
  }
  return "unknown";
}

ConnectionEvent connected_line(std::string_view peer) {
  return {.event = "connected", .peer = std::string(peer), .text = fmt::format("connected {}", peer), .requests = {},
          .reason = {}, .refusal = {}, .origin = {}};
}

ConnectionEvent closed_line(std::string_view peer, std::size_t requests, std::string_view reason) {
  std::string text = fmt::format("closed {} after {}", peer, net::counted(requests, "request"));
  if (!reason.empty()) text += fmt::format(" ({})", reason);
  return {.event = "closed", .peer = std::string(peer), .text = std::move(text), .requests = requests,
          .reason = std::string(reason), .refusal = {}, .origin = {}};
}

ConnectionEvent refused_line(std::string_view peer, ConnectionRefusal kind, std::string_view reason,
                             std::string_view detail) {
  std::string why(reason);
  if (!detail.empty()) why += fmt::format(" ({})", detail);
  return {.event = "refused", .peer = std::string(peer), .text = fmt::format("refused {}: {}", peer, why),
          .requests = {}, .reason = std::move(why), .refusal = kind, .origin = {}};
}

ConnectionEvent refused_line(std::string_view peer, std::size_t max_conns) {
  return refused_line(peer, ConnectionRefusal::max_conns,
                      fmt::format("{} already (--max-conns)", net::counted(max_conns, "connection")));
}

std::string refusal_line(std::string_view reason, std::string_view end_of_line) {
  return fmt::format("ERR refused: {}{}", reason, end_of_line);
}

std::string duration_text(long long milliseconds) {
  return milliseconds % 1000 == 0 ? fmt::format("{} s", milliseconds / 1000) : fmt::format("{} ms", milliseconds);
}

}  // namespace sockit::serve
