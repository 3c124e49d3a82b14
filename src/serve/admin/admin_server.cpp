#include "serve/admin/admin_server.hpp"

#include <fmt/core.h>
#include <netinet/in.h>

#include <chrono>
#include <cstring>
#include <string>

#include "net/socket.hpp"
#include "serve/admin/admin_service.hpp"
#include "serve/server.hpp"

namespace sockit::serve::admin {
namespace {

// 127.0.0.0/8, ::1, or an IPv4-mapped loopback address.
bool is_loopback(const net::Address& address) {
  const auto plain = address.unmapped();
  if (plain.family() == AF_INET)
    return (ntohl(reinterpret_cast<const sockaddr_in*>(plain.get())->sin_addr.s_addr) >> 24) == 127;
  if (plain.family() == AF_INET6) {
    const auto& bytes = reinterpret_cast<const sockaddr_in6*>(plain.get())->sin6_addr;
    return std::memcmp(&bytes, &in6addr_loopback, sizeof bytes) == 0;
  }
  return false;
}

}  // namespace

net::Address admin_address(std::string_view text, bool allow_public) {
  std::string numeric(text);
  if (numeric.starts_with("localhost:")) numeric.replace(0, 9, "127.0.0.1");
  const auto address = net::Address::parse(numeric);
  if (!address || !address->is_ip())
    throw ConfigError(fmt::format("--admin {}: not a numeric ADDR:PORT (127.0.0.1:9100, [::1]:9100)", text));
  if (!allow_public && !is_loopback(*address))
    throw ConfigError(fmt::format(
        "--admin {}: not a loopback address; the admin page shows every client's address and the server's state, "
        "so it listens on 127.0.0.1 or ::1 unless --admin-public is given too",
        text));
  return *address;
}

Limits admin_limits(const Limits& http) {
  Limits limits = http;
  limits.max_conns = 64;
  limits.grace_period = std::chrono::seconds(1);
  return limits;
}

AdminServer::AdminServer(const net::Address& address, const StatusSource& source, AdminOptions options,
                         const Limits& limits, Log* log)
    : service_(make_admin_service(source, options)) {
  auto listener = net::listen_on(address).value();
  address_ = listener.local_address().value();
  server_ = std::make_unique<BackgroundServer>(std::move(listener), *service_, limits,
                                               ModelOptions{.threads = 1, .offload = false, .log = log, .metrics = {}});
}

AdminServer::~AdminServer() = default;

}  // namespace sockit::serve::admin
