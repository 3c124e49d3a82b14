#include "serve/connection_log.hpp"

#include <fmt/core.h>

#include "net/text.hpp"

namespace sockit::serve {

ConnectionEvent connected_line(std::string_view peer) {
  return {.event = "connected", .peer = std::string(peer), .text = fmt::format("connected {}", peer), .requests = {},
          .reason = {}, .origin = {}};
}

ConnectionEvent closed_line(std::string_view peer, std::size_t requests, std::string_view reason) {
  std::string text = fmt::format("closed {} after {}", peer, net::counted(requests, "request"));
  if (!reason.empty()) text += fmt::format(" ({})", reason);
  return {.event = "closed", .peer = std::string(peer), .text = std::move(text), .requests = requests,
          .reason = std::string(reason), .origin = {}};
}

ConnectionEvent refused_line(std::string_view peer, std::size_t max_conns) {
  auto reason = fmt::format("{} already (--max-conns)", net::counted(max_conns, "connection"));
  return {.event = "refused", .peer = std::string(peer), .text = fmt::format("refused {}: {}", peer, reason),
          .requests = {}, .reason = std::move(reason), .origin = {}};
}

std::string duration_text(long long milliseconds) {
  return milliseconds % 1000 == 0 ? fmt::format("{} s", milliseconds / 1000) : fmt::format("{} ms", milliseconds);
}

}  // namespace sockit::serve
