#pragma once

#include <span>

#include "net/socket.hpp"
#include "serve/log.hpp"
#include "serve/model.hpp"
#include "serve/session.hpp"
#include "serve/stop_signal.hpp"
#include "serve/udp_guard.hpp"

namespace sockit::serve {

/// Blocks: serves `service` on every socket of `sockets` (bound UDP sockets, one per address the
/// service listens on) until `stop` drains or stops, with `threads` threads (at least one; the first is the
/// calling thread) that each wait on every socket. A thread reads a batch of datagrams with one
/// recvmmsg(), asks `guard` about each sender, answers, and sends the replies with one
/// sendmmsg(). A datagram the service rejects gets no reply and one log line; a failed send
/// drops that reply only. Never throws for a client's fault. `log` may be nullptr.
void serve_udp(std::span<const net::Socket* const> sockets, const DatagramService& service, unsigned threads,
               const Limits& limits, UdpGuard& guard, StopSignal& stop, Log* log);

}  // namespace sockit::serve
