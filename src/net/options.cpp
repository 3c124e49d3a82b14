#include "net/options.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <string>

namespace sockit::net {
namespace {

template <typename T>
Result<void> set(int fd, int level, int name, const T& value, const char* label) {
  if (::setsockopt(fd, level, name, &value, sizeof(value)) < 0)
    return errno_error(std::string("setsockopt(") + label + ")");
  return {};
}

template <typename T>
Result<T> get(int fd, int level, int name, const char* label) {
  T value{};
  socklen_t length = sizeof(value);
  if (::getsockopt(fd, level, name, &value, &length) < 0)
    return errno_error(std::string("getsockopt(") + label + ")");
  return value;
}

Result<bool> get_flag(int fd, int level, int name, const char* label) {
  auto v = get<int>(fd, level, name, label);
  if (!v) return v.error();
  return *v != 0;
}

timeval to_timeval(std::chrono::milliseconds ms) {
  return timeval{static_cast<time_t>(ms.count() / 1000), static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

Result<std::chrono::milliseconds> get_timeout(int fd, int name, const char* label) {
  auto tv = get<timeval>(fd, SOL_SOCKET, name, label);
  if (!tv) return tv.error();
  return std::chrono::milliseconds(tv->tv_sec * 1000 + tv->tv_usec / 1000);
}

}  // namespace

Result<void> set_keepalive(int fd, bool on) { return set(fd, SOL_SOCKET, SO_KEEPALIVE, int{on}, "SO_KEEPALIVE"); }
Result<bool> keepalive(int fd) { return get_flag(fd, SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE"); }

Result<void> set_linger(int fd, std::optional<std::chrono::seconds> seconds) {
  ::linger value{seconds.has_value() ? 1 : 0, seconds ? static_cast<int>(seconds->count()) : 0};
  return set(fd, SOL_SOCKET, SO_LINGER, value, "SO_LINGER");
}
Result<std::optional<std::chrono::seconds>> linger(int fd) {
  auto v = get<::linger>(fd, SOL_SOCKET, SO_LINGER, "SO_LINGER");
  if (!v) return v.error();
  if (!v->l_onoff) return std::optional<std::chrono::seconds>{};
  return std::optional<std::chrono::seconds>{std::chrono::seconds(v->l_linger)};
}

Result<void> set_receive_buffer(int fd, int bytes) { return set(fd, SOL_SOCKET, SO_RCVBUF, bytes, "SO_RCVBUF"); }
Result<int> receive_buffer(int fd) { return get<int>(fd, SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF"); }
Result<void> set_send_buffer(int fd, int bytes) { return set(fd, SOL_SOCKET, SO_SNDBUF, bytes, "SO_SNDBUF"); }
Result<int> send_buffer(int fd) { return get<int>(fd, SOL_SOCKET, SO_SNDBUF, "SO_SNDBUF"); }

Result<void> set_receive_low_water(int fd, int bytes) { return set(fd, SOL_SOCKET, SO_RCVLOWAT, bytes, "SO_RCVLOWAT"); }
Result<int> receive_low_water(int fd) { return get<int>(fd, SOL_SOCKET, SO_RCVLOWAT, "SO_RCVLOWAT"); }
Result<void> set_send_low_water(int fd, int bytes) { return set(fd, SOL_SOCKET, SO_SNDLOWAT, bytes, "SO_SNDLOWAT"); }
Result<int> send_low_water(int fd) { return get<int>(fd, SOL_SOCKET, SO_SNDLOWAT, "SO_SNDLOWAT"); }

Result<void> set_reuse_address(int fd, bool on) { return set(fd, SOL_SOCKET, SO_REUSEADDR, int{on}, "SO_REUSEADDR"); }
Result<bool> reuse_address(int fd) { return get_flag(fd, SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR"); }
Result<void> set_reuse_port(int fd, bool on) { return set(fd, SOL_SOCKET, SO_REUSEPORT, int{on}, "SO_REUSEPORT"); }
Result<bool> reuse_port(int fd) { return get_flag(fd, SOL_SOCKET, SO_REUSEPORT, "SO_REUSEPORT"); }
Result<void> set_v6_only(int fd, bool on) { return set(fd, IPPROTO_IPV6, IPV6_V6ONLY, int{on}, "IPV6_V6ONLY"); }

Result<void> set_ttl(int fd, int hops) {
  auto family = socket_family(fd);
  if (!family) return family.error();
  if (*family == AF_INET6) return set(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, hops, "IPV6_UNICAST_HOPS");
  return set(fd, IPPROTO_IP, IP_TTL, hops, "IP_TTL");
}
Result<int> ttl(int fd) {
  auto family = socket_family(fd);
  if (!family) return family.error();
  if (*family == AF_INET6) return get<int>(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, "IPV6_UNICAST_HOPS");
  return get<int>(fd, IPPROTO_IP, IP_TTL, "IP_TTL");
}

Result<void> set_no_delay(int fd, bool on) { return set(fd, IPPROTO_TCP, TCP_NODELAY, int{on}, "TCP_NODELAY"); }
Result<bool> no_delay(int fd) { return get_flag(fd, IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY"); }

Result<void> set_packet_info(int fd, bool on) {
  auto family = socket_family(fd);
  if (!family) return family.error();
  if (*family == AF_INET6) return set(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, int{on}, "IPV6_RECVPKTINFO");
  return set(fd, IPPROTO_IP, IP_PKTINFO, int{on}, "IP_PKTINFO");
}
Result<bool> packet_info(int fd) {
  auto family = socket_family(fd);
  if (!family) return family.error();
  if (*family == AF_INET6) return get_flag(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, "IPV6_RECVPKTINFO");
  return get_flag(fd, IPPROTO_IP, IP_PKTINFO, "IP_PKTINFO");
}

Result<void> set_receive_timeout(int fd, std::chrono::milliseconds timeout) {
  return set(fd, SOL_SOCKET, SO_RCVTIMEO, to_timeval(timeout), "SO_RCVTIMEO");
}
Result<std::chrono::milliseconds> receive_timeout(int fd) { return get_timeout(fd, SO_RCVTIMEO, "SO_RCVTIMEO"); }
Result<void> set_send_timeout(int fd, std::chrono::milliseconds timeout) {
  return set(fd, SOL_SOCKET, SO_SNDTIMEO, to_timeval(timeout), "SO_SNDTIMEO");
}
Result<std::chrono::milliseconds> send_timeout(int fd) { return get_timeout(fd, SO_SNDTIMEO, "SO_SNDTIMEO"); }

Result<int> socket_family(int fd) { return get<int>(fd, SOL_SOCKET, SO_DOMAIN, "SO_DOMAIN"); }
Result<int> socket_type(int fd) { return get<int>(fd, SOL_SOCKET, SO_TYPE, "SO_TYPE"); }
Result<int> socket_protocol(int fd) { return get<int>(fd, SOL_SOCKET, SO_PROTOCOL, "SO_PROTOCOL"); }
Result<bool> listening(int fd) { return get_flag(fd, SOL_SOCKET, SO_ACCEPTCONN, "SO_ACCEPTCONN"); }

}  // namespace sockit::net
