#include "net/address.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <charconv>
#include <cstring>

namespace sockit::net {
namespace {

Error bad_address(std::string_view text, std::string detail) {
  return Error("parse address", Errc::bad_address, std::string(text), std::move(detail));
}

const sockaddr_in& as_v4(const sockaddr_storage& s) { return reinterpret_cast<const sockaddr_in&>(s); }
const sockaddr_in6& as_v6(const sockaddr_storage& s) { return reinterpret_cast<const sockaddr_in6&>(s); }

}  // namespace

Address::Address() noexcept : storage_{}, length_(sizeof(storage_)) {}

Address::Address(const sockaddr* address, socklen_t length) noexcept : storage_{}, length_(length) {
  if (length_ > sizeof(storage_)) length_ = sizeof(storage_);
  std::memcpy(&storage_, address, length_);
}

Result<Address> Address::parse(std::string_view text) {
  // inet_pton() and sun_path stop at a NUL: "127.0.0.1\0junk:7" would pass for 127.0.0.1:7, and
  // "unix:\0name" would name an abstract socket.
  if (text.find('\0') != std::string_view::npos) return bad_address(text, "NUL byte in address");
  if (text.starts_with("unix:")) return unix_path(text.substr(5));
  auto parts = split_host_port(text);
  if (!parts) return parts.error();
  unsigned port = 0;
  const auto& p = parts->port;
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
  if (ec != std::errc{} || end != p.data() + p.size() || port > 65535)
    return bad_address(text, "port must be a number from 0 to 65535");

  sockaddr_in v4{};
  if (inet_pton(AF_INET, parts->host.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    v4.sin_port = htons(static_cast<std::uint16_t>(port));
    return Address(reinterpret_cast<const sockaddr*>(&v4), sizeof(v4));
  }
  sockaddr_in6 v6{};
  if (inet_pton(AF_INET6, parts->host.c_str(), &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(static_cast<std::uint16_t>(port));
    return Address(reinterpret_cast<const sockaddr*>(&v6), sizeof(v6));
  }
  return bad_address(text, "not a numeric IPv4 or IPv6 address");
}

Address Address::any(int family, std::uint16_t port) {
  if (family == AF_INET6) {
    sockaddr_in6 v6{};
    v6.sin6_family = AF_INET6;
    v6.sin6_addr = in6addr_any;
    v6.sin6_port = htons(port);
    return Address(reinterpret_cast<const sockaddr*>(&v6), sizeof(v6));
  }
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  v4.sin_addr.s_addr = htonl(INADDR_ANY);
  v4.sin_port = htons(port);
  return Address(reinterpret_cast<const sockaddr*>(&v4), sizeof(v4));
}

Address Address::loopback(int family, std::uint16_t port) {
  Address address = any(family, port);
  if (family == AF_INET6)
    reinterpret_cast<sockaddr_in6&>(address.storage_).sin6_addr = in6addr_loopback;
  else
    reinterpret_cast<sockaddr_in&>(address.storage_).sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

Result<Address> Address::unix_path(std::string_view path) {
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  if (path.empty()) return bad_address(path, "empty Unix socket path");
  if (path.find('\0') != std::string_view::npos) return bad_address(path, "NUL byte in Unix socket path");
  if (path.size() >= sizeof(un.sun_path))
    return bad_address(path, "Unix socket path longer than " + std::to_string(sizeof(un.sun_path) - 1) +
                                 " bytes");
  std::memcpy(un.sun_path, path.data(), path.size());
  return Address(reinterpret_cast<const sockaddr*>(&un),
                 static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1));
}

bool Address::is_ip() const noexcept { return family() == AF_INET || family() == AF_INET6; }

std::uint16_t Address::port() const noexcept {
  if (family() == AF_INET) return ntohs(as_v4(storage_).sin_port);
  if (family() == AF_INET6) return ntohs(as_v6(storage_).sin6_port);
  return 0;
}

void Address::set_port(std::uint16_t port) noexcept {
  if (family() == AF_INET) reinterpret_cast<sockaddr_in&>(storage_).sin_port = htons(port);
  if (family() == AF_INET6) reinterpret_cast<sockaddr_in6&>(storage_).sin6_port = htons(port);
}

std::string Address::host() const {
  char text[INET6_ADDRSTRLEN] = {};
  switch (family()) {
    case AF_INET: inet_ntop(AF_INET, &as_v4(storage_).sin_addr, text, sizeof(text)); return text;
    case AF_INET6: inet_ntop(AF_INET6, &as_v6(storage_).sin6_addr, text, sizeof(text)); return text;
    case AF_UNIX: {
      const auto& un = reinterpret_cast<const sockaddr_un&>(storage_);
      auto max = length_ > offsetof(sockaddr_un, sun_path) ? length_ - offsetof(sockaddr_un, sun_path) : 0;
      return std::string(un.sun_path, strnlen(un.sun_path, max));
    }
    default: return "?";
  }
}

std::string Address::to_string() const {
  switch (family()) {
    case AF_INET: return host() + ':' + std::to_string(port());
    case AF_INET6: return '[' + host() + "]:" + std::to_string(port());
    case AF_UNIX: return "unix:" + host();
    default: return "(family " + std::to_string(family()) + ")";
  }
}

Address Address::unmapped() const noexcept {
  if (family() != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&as_v6(storage_).sin6_addr)) return *this;
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  v4.sin_port = as_v6(storage_).sin6_port;
  std::memcpy(&v4.sin_addr, &as_v6(storage_).sin6_addr.s6_addr[12], sizeof(v4.sin_addr));
  return Address(reinterpret_cast<const sockaddr*>(&v4), sizeof(v4));
}

bool operator==(const Address& a, const Address& b) noexcept {
  if (a.family() != b.family()) return false;
  if (a.family() == AF_UNIX) return a.host() == b.host();
  return a.length_ == b.length_ && std::memcmp(&a.storage_, &b.storage_, a.length_) == 0;
}

Result<HostPort> split_host_port(std::string_view text) {
  if (text.starts_with('[')) {
    auto close = text.find(']');
    if (close == std::string_view::npos)
      return bad_address(text, "missing ']' after IPv6 address");
    if (close + 1 >= text.size() || text[close + 1] != ':')
      return bad_address(text, "expected ':port' after ']'");
    if (close + 2 == text.size()) return bad_address(text, "missing port after ':'");
    return HostPort{std::string(text.substr(1, close - 1)), std::string(text.substr(close + 2))};
  }
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return bad_address(text, "expected host:port");
  if (text.find(':') != colon)
    return bad_address(text, "IPv6 addresses need brackets: [addr]:port");
  if (colon + 1 == text.size()) return bad_address(text, "missing port after ':'");
  return HostPort{std::string(text.substr(0, colon)), std::string(text.substr(colon + 1))};
}

std::string_view host_part(std::string_view text) noexcept {
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    return close == std::string_view::npos ? text : text.substr(1, close - 1);
  }
  if (text.starts_with("unix:")) return text;
  const auto colon = text.find(':');
  return colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos ? text.substr(0, colon)
                                                                                                : text;
}

Result<std::vector<Resolved>> resolve(std::string_view host, std::string_view service,
                                      const ResolveOptions& options) {
  addrinfo hints{};
  hints.ai_family = options.family;
  hints.ai_socktype = options.socktype;
  hints.ai_flags = options.flags;
  const std::string host_text(host), service_text(service);
  addrinfo* list = nullptr;
  int rc = ::getaddrinfo(host_text.empty() ? nullptr : host_text.c_str(),
                         service_text.empty() ? nullptr : service_text.c_str(), &hints, &list);
  if (rc != 0) {
    auto code = rc == EAI_SYSTEM ? std::error_code(errno, std::generic_category())
                                 : std::error_code(rc, gai_category());
    std::string what = host_text;
    if (!service_text.empty()) what += (what.empty() ? "" : ":") + service_text;
    return Error("getaddrinfo", code, what);
  }
  std::vector<Resolved> results;
  for (const addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    results.push_back(Resolved{Address(ai->ai_addr, ai->ai_addrlen), ai->ai_family, ai->ai_socktype,
                               ai->ai_protocol, ai->ai_canonname ? ai->ai_canonname : ""});
  }
  ::freeaddrinfo(list);
  return results;
}

Result<std::string> reverse(const Address& address) {
  char host[NI_MAXHOST];
  int rc = ::getnameinfo(address.get(), address.length(), host, sizeof(host), nullptr, 0, NI_NAMEREQD);
  if (rc != 0) {
    auto code = rc == EAI_SYSTEM ? std::error_code(errno, std::generic_category())
                                 : std::error_code(rc, gai_category());
    return Error("getnameinfo", code, address.host());
  }
  return std::string(host);
}

}  // namespace sockit::net
