#include <sys/epoll.h>

#include <cerrno>

#include "net/options.hpp"
#include "tools/scan_probe.hpp"

namespace sockit::tools {
namespace {

bool out_of_resources(int err) {
  return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM || err == EADDRNOTAVAIL ||
         err == EAGAIN;
}

Verdict verdict_for(int err) {
  switch (err) {
    case 0: return {PortState::open, "syn-ack"};
    case ECONNREFUSED: return {PortState::closed, "conn-refused"};
    case EHOSTUNREACH: return {PortState::filtered, "host-unreach"};
    case ENETUNREACH: return {PortState::filtered, "net-unreach"};
    case EACCES:
    case EPERM: return {PortState::filtered, "admin-prohibited"};
    case ETIMEDOUT: return {PortState::filtered, "no-response"};
    default: return {PortState::filtered, std::string("error-") + std::to_string(err)};
  }
}

// A connection to our own address and port is TCP's simultaneous open with ourselves: the
// kernel picked the scanned port as our ephemeral port. Nothing listens there: it is closed.
bool connected_to_itself(const net::Socket& socket) {
  auto local = socket.local_address();
  auto peer = socket.peer_address();
  return local && peer && *local == *peer;
}

Verdict opened(const net::Socket& socket) {
  if (connected_to_itself(socket)) return {PortState::closed, "self-connect"};
  // Close with RST (linger 0): no TIME_WAIT on our side, nothing left in the listener's queue.
  (void)net::set_linger(socket.fd(), std::chrono::seconds(0));
  return {PortState::open, "syn-ack"};
}

// A probe socket bound to the scanner's source port (chosen by a port-0 bind the first time).
// Binding a port explicitly keeps it through connect(AF_UNSPEC) and spares connect() its
// search for a free ephemeral port; SO_REUSEADDR lets the probes in flight share it, since
// each goes to another port. A failed bind leaves a socket the kernel binds at connect().
net::Result<net::Socket> new_probe_socket(int family, ProbeSocket& spare) {
  auto socket = net::Socket::create(family, SOCK_STREAM | SOCK_NONBLOCK);
  if (!socket || spare.unbound) return socket;
  if (spare.source_port == 0) {
    auto picker = net::Socket::create(family, SOCK_STREAM);
    auto picked = picker ? picker->bind(net::Address::any(family, 0)) : net::Result<void>(picker.error());
    auto local = picked ? picker->local_address() : net::Result<net::Address>(picked.error());
    if (!local) {
      spare.unbound = true;
      return socket;
    }
    spare.source_port = local->port();
  }
  if (!net::set_reuse_address(socket->fd(), true) || !socket->bind(net::Address::any(family, spare.source_port)))
    spare.unbound = true;  // this socket is unbound still: fine for connect()
  return socket;
}

}  // namespace

Launch start_tcp_probe(const net::Address& target, ProbeSocket& spare) {
  Launch launch;
  if (!spare.socket) {
    auto created = new_probe_socket(target.family(), spare);
    if (!created) {
      launch.busy = true;  // out of descriptors: try again when a probe in flight has finished
      return launch;
    }
    spare.socket = std::move(*created);
  }
  auto started = spare.socket.begin_connect(target);
  if (!started && started.error().code().value() == EADDRNOTAVAIL && !spare.unbound) {
    // Our source port to this address and port is taken (another program's connection): from
    // now on let the kernel choose.
    spare.unbound = true;
    spare.socket.close();
    return start_tcp_probe(target, spare);
  }
  if (!started) {
    // Out of ports, or refused inside connect() itself; the socket is not worth keeping.
    const int err = started.error().code().value();
    spare.socket.close();
    if (out_of_resources(err)) launch.busy = true;
    else launch.verdict = verdict_for(err);
    return launch;
  }
  if (*started) {
    launch.verdict = opened(spare.socket);
    spare.socket.close();
    return launch;
  }
  // Over loopback the RST has been processed by the time connect() returns: ask before
  // involving epoll, and keep the refused socket for the next probe.
  if (auto err = spare.socket.pending_error(); err && *err != 0) {
    launch.verdict = verdict_for(*err);
    if (*err != ECONNREFUSED || !spare.socket.disconnect()) spare.socket.close();
    return launch;
  }
  launch.events = EPOLLOUT;
  launch.socket = std::move(spare.socket);
  return launch;
}

std::optional<Verdict> finish_tcp_probe(const net::Socket& socket) {
  auto err = socket.pending_error();
  if (!err) return verdict_for(err.error().code().value());
  if (*err == 0) {
    // EPOLLOUT with no error: connected (unless still in progress, which epoll doesn't report).
    return opened(socket);
  }
  return verdict_for(*err);
}

}  // namespace sockit::tools
