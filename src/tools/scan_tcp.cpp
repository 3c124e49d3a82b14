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

}  // namespace

Launch start_tcp_probe(const net::Address& target, net::Socket& spare) {
  Launch launch;
  if (!spare) {
    auto created = net::Socket::create(target.family(), SOCK_STREAM | SOCK_NONBLOCK);
    if (!created) {
      launch.busy = true;  // out of descriptors: try again when a probe in flight has finished
      return launch;
    }
    spare = std::move(*created);
  }
  auto started = spare.begin_connect(target);
  if (!started) {
    // Out of ports, or refused inside connect() itself; the socket is not worth keeping.
    const int err = started.error().code().value();
    spare.close();
    if (out_of_resources(err)) launch.busy = true;
    else launch.verdict = verdict_for(err);
    return launch;
  }
  if (*started) {
    launch.verdict = opened(spare);
    spare.close();
    return launch;
  }
  // Over loopback the RST has been processed by the time connect() returns: ask before
  // involving epoll, and keep the refused socket for the next probe (socket() and close() cost
  // a third of a probe's CPU).
  if (auto err = spare.pending_error(); err && *err != 0) {
    launch.verdict = verdict_for(*err);
    if (*err != ECONNREFUSED || !spare.disconnect()) spare.close();
    return launch;
  }
  launch.events = EPOLLOUT;
  launch.socket = std::move(spare);
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
