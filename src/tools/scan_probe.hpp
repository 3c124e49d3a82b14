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

/// A TCP scanner's socket for its next probe. A port that refuses at once leaves the socket
/// disconnected here for the next probe (socket() and close() cost a third of a probe's CPU).
/// Every socket it makes is bound (SO_REUSEADDR) to one source port of the scanner's own, which
/// a port-0 bind picked, so connect() skips the ephemeral-port search; when that fails, sockets
/// are left to the kernel's choice. One per scanner (thread).
struct ProbeSocket {
  net::Socket socket;
  std::uint16_t source_port = 0;  ///< 0: not chosen yet
  bool unbound = false;           ///< binding failed once: let the kernel choose from now on
};

/// TCP connect probe: a non-blocking connect() on `spare`'s socket (made first when it holds
/// none); watch the launched socket for EPOLLOUT.
Launch start_tcp_probe(const net::Address& target, ProbeSocket& spare);
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
