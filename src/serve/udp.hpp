#pragma once

#include <vector>

#include "net/address.hpp"
#include "net/result.hpp"
#include "net/socket.hpp"
#include "serve/log.hpp"
#include "serve/model.hpp"
#include "serve/session.hpp"
#include "serve/stop_signal.hpp"

namespace sockit::serve {

/// `count` UDP sockets bound to `address`, all on the same port (SO_REUSEPORT when there is
/// more than one, so the kernel spreads datagrams across them by sender). Port 0 picks a free
/// port for the first socket and binds the others to it.
net::Result<std::vector<net::Socket>> bind_udp_group(const net::Address& address, unsigned count);

/// Blocks: serves `service` on every socket of `sockets` until `stop` fires, one thread per
/// socket (the first on the calling thread). Each thread reads a batch of datagrams with one
/// recvmmsg(), answers them, and sends the replies with one sendmmsg(). A datagram the service
/// rejects gets no reply and one log line; a failed send drops that reply only. Never throws for
/// a client's fault. `log` may be nullptr.
void serve_udp(std::vector<net::Socket>& sockets, const DatagramService& service, const Limits& limits,
               StopSignal& stop, Log* log);

}  // namespace sockit::serve
