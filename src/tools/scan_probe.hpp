#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "net/address.hpp"
#include "net/socket.hpp"
#include "tools/scan.hpp"

namespace sockit::tools {

/// A port's state and why (the scanner's internal answer for one probe).
struct Verdict {
  PortState state;
  std::string reason;
};

/// A probe just started: its socket (to watch for `events`), or already a verdict, or `busy`
/// when the system is out of sockets or ports for now (try again when a probe finishes).
struct Launch {
  net::Socket socket;
  std::uint32_t events = 0;
  std::optional<Verdict> verdict;
  bool busy = false;
};

/// TCP connect probe: a non-blocking connect() on `spare` (a socket of `target`'s family, made
/// first when it holds none); watch the launched socket for EPOLLOUT. When the port refuses at once,
/// `spare` keeps its socket, disconnected, for the next probe.
Launch start_tcp_probe(const net::Address& target, net::Socket& spare);
/// What a TCP probe's socket says once epoll reported it (SO_ERROR); nullopt: not yet.
std::optional<Verdict> finish_tcp_probe(const net::Socket& socket);

/// UDP probe: a connected UDP socket that sent the port's payload; watch for EPOLLIN.
Launch start_udp_probe(const net::Address& target);
/// A reply means open, ECONNREFUSED (ICMP port unreachable) closed; nullopt: not yet.
std::optional<Verdict> finish_udp_probe(const net::Socket& socket);
/// The datagram a UDP probe sends to `port`: something that makes echo, daytime and time
/// (and sockit's other UDP services) answer.
std::string udp_payload(std::uint16_t port);

}  // namespace sockit::tools
