#include "serve/models/blocking_acceptor.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "net/deadline.hpp"
#include "net/error.hpp"
#include "net/options.hpp"
#include "serve/connection_log.hpp"

namespace sockit::serve::models::blocking {
namespace {

net::Fd open_reserve() { return net::Fd(::open("/dev/null", O_RDONLY | O_CLOEXEC)); }

// accept(2): "Linux accept() passes already-pending network errors on the new socket as an error
// code from accept()... the application should treat them like EAGAIN and retry."
bool transient(int err) {
  switch (err) {
    case EAGAIN: case EINTR: case ECONNABORTED: case EPROTO: case ENETDOWN: case ENOPROTOOPT:
    case EHOSTDOWN: case ENONET: case EHOSTUNREACH: case EOPNOTSUPP: case ENETUNREACH: case EPERM:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string peer_name(const net::Address& peer) {
  if (peer.family() == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(peer.get());
    if (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr)) {
      sockaddr_in v4{};
      v4.sin_family = AF_INET;
      v4.sin_port = v6->sin6_port;
      std::memcpy(&v4.sin_addr, &v6->sin6_addr.s6_addr[12], 4);
      return net::Address(reinterpret_cast<const sockaddr*>(&v4), sizeof(v4)).to_string();
    }
  }
  return peer.to_string();
}

Wakeup wait_for_connection(const net::Socket& listener, const StopSignal& stop, std::chrono::milliseconds timeout) {
  const auto deadline = timeout.count() < 0 ? net::Deadline::never() : net::Deadline::after(timeout);
  for (;;) {
    pollfd fds[2] = {{stop.fd(), POLLIN, 0}, {listener.fd(), POLLIN, 0}};
    int n = ::poll(fds, 2, deadline.poll_timeout_ms());
    if (n < 0 && errno == EINTR) continue;
    if (stop.requested() || (n > 0 && fds[0].revents != 0)) return Wakeup::stop;
    if (n > 0) return Wakeup::connection;
    return Wakeup::timeout;  // n == 0, or poll() itself failed: let the caller loop again
  }
}

bool pause_unless_stopped(const StopSignal& stop, std::chrono::milliseconds pause) {
  const auto deadline = pause.count() < 0 ? net::Deadline::never() : net::Deadline::after(pause);
  while (!stop.requested() && !deadline.expired()) {
    pollfd p{stop.fd(), POLLIN, 0};
    if (::poll(&p, 1, deadline.poll_timeout_ms()) > 0) break;
  }
  return stop.requested();
}

Acceptor::Acceptor(const net::Socket& listener, Log* log, Waiting waiting)
    : listener_(listener), log_(log), reserve_(open_reserve()) {
  (void)net::set_nonblocking(listener.fd(), waiting == Waiting::in_poll);
  if (auto local = listener.local_address()) local_ = local->to_string();
}

std::optional<Accepted> Acceptor::accept_one() {
  // accept4() itself rather than Socket::accept(): the failures here are routine (EAGAIN after
  // every burst, EMFILE in a storm) and need only errno, not an Error with the local address.
  Accepted accepted;
  *accepted.peer.length_pointer() = net::Address::capacity();
  const int fd = ::accept4(listener_.fd(), accepted.peer.get(), accepted.peer.length_pointer(), SOCK_CLOEXEC);
  if (fd >= 0) {
    if (starved_ && log_) log_->notice("accepting connections on " + local_ + " again");
    starved_ = false;
    if (!reserve_) reserve_ = open_reserve();
    // No Nagle: a small reply must not wait for the previous one's acknowledgement (as in the
    // event models' acceptor). A Unix socket refuses the option, harmlessly.
    (void)net::set_no_delay(fd, true);
    accepted.socket = net::Socket(net::Fd(fd));
    return accepted;
  }
  const int err = errno;
  if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
    if (!starved_ && log_)
      log_->notice("accept on " + local_ + " failed: " + std::strerror(err) +
                   "; closing new connections until descriptors free up");
    starved_ = true;
    drop_one_pending(err);
  } else if (!transient(err) && log_) {
    log_->notice("accept on " + local_ + " failed: " + std::strerror(err));
  }
  return std::nullopt;
}

void Acceptor::drop_one_pending(int err) {
  if (err != EMFILE && err != ENFILE) return;
  if (!reserve_) reserve_ = open_reserve();
  if (!reserve_) return;  // someone else took the descriptor: the caller backs off and retries
  reserve_.reset();
  // Accepted and closed at once: the client gets EOF now rather than hanging in the backlog.
  net::Fd dropped(::accept4(listener_.fd(), nullptr, nullptr, SOCK_CLOEXEC));
  reserve_ = open_reserve();
}

void refuse(Accepted connection, std::size_t max_conns, Log* log) {
  const auto peer = connection.peer.to_string();
  connection.socket.close();
  if (log) log->connection(refused_line(peer, max_conns));
}

}  // namespace sockit::serve::models::blocking
