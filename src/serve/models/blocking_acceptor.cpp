#include "serve/models/blocking_acceptor.hpp"

#include <poll.h>

#include <cerrno>

namespace sockit::serve::models::blocking {

Wakeup wait_for_connection(const net::Socket& listener, const StopSignal& stop, std::chrono::milliseconds timeout) {
  const auto deadline = timeout.count() < 0 ? net::Deadline::never() : net::Deadline::after(timeout);
  for (;;) {
    pollfd fds[2] = {{stop.drain_fd(), POLLIN, 0}, {listener.fd(), POLLIN, 0}};
    int n = ::poll(fds, 2, deadline.poll_timeout_ms());
    if (n < 0 && errno == EINTR) continue;
    if (stop.draining() || (n > 0 && fds[0].revents != 0)) return Wakeup::stop;
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

}  // namespace sockit::serve::models::blocking
