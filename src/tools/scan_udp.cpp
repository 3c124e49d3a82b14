#include <sys/epoll.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>

#include "net/io.hpp"
#include "tools/scan_probe.hpp"

namespace sockit::tools {

std::string udp_payload(std::uint16_t port) {
  // echo (7, sockit's 10007) sends back whatever it gets; daytime (13, 10013) and time (37,
  // 10037) answer any datagram. A line ending is also what sockit's upper, length and incr
  // (a 2-byte integer) answer, and what most line-based UDP services tolerate.
  switch (port) {
    case 7:
    case 10007: return "sockit scan probe\r\n";
    default: return "\r\n";
  }
}

Launch start_udp_probe(const net::Address& target) {
  Launch launch;
  auto socket = net::Socket::create(target.family(), SOCK_DGRAM | SOCK_NONBLOCK);
  if (!socket) {
    launch.busy = true;
    return launch;
  }
  // Connected, so ICMP port unreachable comes back to this socket as ECONNREFUSED. A datagram
  // socket's connect only fixes the peer: it never waits.
  if (auto connected = socket->connect(target); !connected) {
    const int err = connected.error().code().value();
    if (err == EMFILE || err == ENFILE || err == EADDRNOTAVAIL || err == EAGAIN) launch.busy = true;
    else launch.verdict = Verdict{PortState::filtered, "connect-error"};
    return launch;
  }
  const auto payload = udp_payload(target.port());
  auto sent = net::try_send(socket->fd(), net::as_bytes(payload));
  if (!sent) {
    const int err = sent.error().code().value();
    if (err == ECONNREFUSED) launch.verdict = Verdict{PortState::closed, "port-unreach"};
    else if (err == ENOBUFS) launch.busy = true;
    else launch.verdict = Verdict{PortState::filtered, "send-error"};
    return launch;
  }
  if (!*sent) {  // the socket's send buffer is full: try this port again later
    launch.busy = true;
    return launch;
  }
  launch.events = EPOLLIN;
  launch.socket = std::move(*socket);
  return launch;
}

std::optional<Verdict> finish_udp_probe(const net::Socket& socket) {
  std::array<std::byte, 2048> reply{};
  auto n = net::try_recv(socket.fd(), reply);
  if (n) return *n ? std::optional(Verdict{PortState::open, "udp-response"}) : std::nullopt;
  const int err = n.error().code().value();
  if (err == ECONNREFUSED) return Verdict{PortState::closed, "port-unreach"};
  if (err == EHOSTUNREACH || err == ENETUNREACH) return Verdict{PortState::filtered, "host-unreach"};
  return Verdict{PortState::filtered, "recv-error"};
}

}  // namespace sockit::tools
