#include "serve/connection_log.hpp"

#include <fmt/core.h>

#include "net/text.hpp"

namespace sockit::serve {

std::string connected_line(std::string_view peer) { return fmt::format("connected {}", peer); }

std::string closed_line(std::string_view peer, std::size_t requests, std::string_view reason) {
  std::string line = fmt::format("closed {} after {} {}", peer, requests, requests == 1 ? "request" : "requests");
  if (!reason.empty()) line += fmt::format(" ({})", reason);
  return line;
}

std::string refused_line(std::string_view peer, std::size_t max_conns) {
  return fmt::format("refused {}: {} already (--max-conns)", peer, net::counted(max_conns, "connection"));
}

std::string duration_text(long long milliseconds) {
  return milliseconds % 1000 == 0 ? fmt::format("{} s", milliseconds / 1000) : fmt::format("{} ms", milliseconds);
}

}  // namespace sockit::serve
