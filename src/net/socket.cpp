#include "net/socket.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>

#include <cerrno>
#include <optional>

#include "net/options.hpp"

namespace sockit::net {

Result<Socket> Socket::create(int family, int type, int protocol) {
  int fd = ::socket(family, type | SOCK_CLOEXEC, protocol);
  if (fd < 0) return errno_error("socket");
  return Socket(Fd(fd));
}

Result<void> Socket::bind(const Address& address) {
  if (::bind(fd(), address.get(), address.length()) < 0) return errno_error("bind", address.to_string());
  return {};
}

Result<void> Socket::listen(int backlog) {
  if (::listen(fd(), backlog) < 0) {
    auto local = local_address();
    return errno_error("listen", local ? local->to_string() : "");
  }
  return {};
}

Result<Socket> Socket::accept(Address* peer, int flags) const {
  Address scratch;
  Address& from = peer ? *peer : scratch;
  for (;;) {
    *from.length_pointer() = Address::capacity();
    int fd = ::accept4(this->fd(), from.get(), from.length_pointer(), flags | SOCK_CLOEXEC);
    if (fd >= 0) return Socket(Fd(fd));
    if (errno == EINTR) continue;
    int err = errno;
    auto local = local_address();
    return errno_error("accept", local ? local->to_string() : "", err);
  }
}

namespace {

// connect(2) on a socket: true when connected, false when the connect goes on in the kernel
// (non-blocking, or interrupted by a signal: either way its outcome comes as writable + SO_ERROR).
Result<bool> connect_without_waiting(int fd, const Address& to) {
  if (::connect(fd, to.get(), to.length()) == 0) return true;
  if (errno == EINPROGRESS || errno == EINTR) return false;
  return errno_error("connect", to.to_string());
}

}  // namespace

Result<void> Socket::connect(const Address& address, Deadline deadline) {
  Result<bool> done = false;
  if (deadline.is_never()) {
    done = connect_without_waiting(fd(), address);
  } else {
    const int flags = ::fcntl(fd(), F_GETFL);
    if (flags < 0) return errno_error("fcntl(F_GETFL)");
    if (auto r = set_nonblocking(true); !r) return r;
    done = connect_without_waiting(fd(), address);
    if (auto r = set_nonblocking((flags & O_NONBLOCK) != 0); !r) return r;
  }
  if (!done) return done.error();
  if (*done) return {};
  auto ready = wait_ready(fd(), POLLOUT, deadline, "connect");
  if (!ready) return Error("connect", ready.error().code(), address.to_string());
  return finish_connect(address);
}

Result<void> Socket::finish_connect(const Address& to) const {
  auto err = pending_error();
  if (!err) return err.error();
  if (*err != 0) return errno_error("connect", to.to_string(), *err);
  return {};
}

Result<bool> Socket::begin_connect(const Address& to) { return connect_without_waiting(fd(), to); }

Result<void> Socket::disconnect() {
  sockaddr unspecified{};
  unspecified.sa_family = AF_UNSPEC;
  if (::connect(fd(), &unspecified, sizeof unspecified) < 0) return errno_error("connect(AF_UNSPEC)");
  return {};
}

Result<Connecting> start_connect(const Address& to, int type) {
  auto socket = Socket::create(to.family(), type | SOCK_NONBLOCK);
  if (!socket) return socket.error();
  auto done = connect_without_waiting(socket->fd(), to);
  if (!done) return done.error();
  return Connecting{std::move(*socket), *done};
}

Result<void> Socket::shutdown(int how) {
  if (::shutdown(fd(), how) < 0) return errno_error("shutdown");
  return {};
}

Result<void> Socket::set_nonblocking(bool on) { return net::set_nonblocking(fd(), on); }

Result<Address> Socket::local_address() const {
  Address address;
  if (::getsockname(fd(), address.get(), address.length_pointer()) < 0) return errno_error("getsockname");
  return address;
}

Result<Address> Socket::peer_address() const {
  Address address;
  if (::getpeername(fd(), address.get(), address.length_pointer()) < 0) return errno_error("getpeername");
  return address;
}

Result<int> Socket::pending_error() const {
  int err = 0;
  socklen_t len = sizeof(err);
  if (::getsockopt(fd(), SOL_SOCKET, SO_ERROR, &err, &len) < 0) return errno_error("getsockopt(SO_ERROR)");
  return err;
}

Result<Socket> listen_on(const Address& address, const ListenOptions& options) {
  int type = SOCK_STREAM | (options.nonblocking ? SOCK_NONBLOCK : 0);
  auto socket = Socket::create(address.family(), type);
  if (!socket) return socket;
  if (address.is_ip()) {
    if (auto r = set_reuse_address(socket->fd(), true); !r) return r.error();
    if (address.family() == AF_INET6)
      if (auto r = set_v6_only(socket->fd(), !options.dual_stack); !r) return r.error();
  }
  if (auto r = socket->bind(address); !r) return r.error();
  if (auto r = socket->listen(options.backlog); !r) return r.error();
  return socket;
}

Result<Socket> bind_datagram(const Address& address) {
  auto socket = Socket::create(address.family(), SOCK_DGRAM);
  if (!socket) return socket;
  // No SO_REUSEADDR or SO_REUSEPORT: on Linux either lets a second UDP socket bind the same
  // address and port when it sets the option too, and the newest socket then gets the datagrams.
  // UDP has no TIME_WAIT for SO_REUSEADDR to skip, so nothing is lost.
  if (address.family() == AF_INET6)
    if (auto r = set_v6_only(socket->fd(), false); !r) return r.error();
  if (auto r = socket->bind(address); !r) return r.error();
  return socket;
}

Result<Socket> connect_to(const Address& address, std::chrono::milliseconds timeout, int type) {
  auto socket = Socket::create(address.family(), type);
  if (!socket) return socket;
  auto deadline = timeout.count() > 0 ? Deadline::after(timeout) : Deadline::never();
  if (auto r = socket->connect(address, deadline); !r) return r.error();
  return socket;
}

Result<Socket> connect_to(std::string_view host, std::string_view service, const ConnectOptions& options) {
  const auto deadline = options.timeout.count() > 0 ? Deadline::after(options.timeout) : Deadline::never();
  if (host.starts_with("unix:")) {
    auto address = Address::unix_path(host.substr(5));
    if (!address) return address.error();
    return connect_to(*address, options.timeout, options.type);
  }
  auto candidates = resolve(host, service, {.family = options.family, .socktype = options.type,
                                            .flags = options.numeric ? AI_NUMERICHOST | AI_NUMERICSERV : 0});
  if (!candidates) return candidates.error();
  std::optional<Error> last;
  for (const auto& candidate : *candidates) {
    auto socket = Socket::create(candidate.family, candidate.socktype, candidate.protocol);
    if (!socket) {
      last = socket.error();
      continue;
    }
    if (options.local_port != 0) {
      // The port may still be in TIME_WAIT from the last run (nc -p does the same).
      (void)set_reuse_address(socket->fd(), true);
      if (auto r = socket->bind(Address::any(candidate.family, options.local_port)); !r) {
        last = r.error();
        continue;
      }
    }
    if (auto r = socket->connect(candidate.address, deadline); r) return socket;
    else last = r.error();
    if (deadline.expired()) break;
  }
  if (last) return *last;
  return Error("connect", Errc::bad_address, std::string(host) + ":" + std::string(service),
               "no address to try");
}

Result<Socket> connect_to(std::string_view host, std::string_view service, std::chrono::milliseconds timeout,
                          int type, int family) {
  return connect_to(host, service, ConnectOptions{.timeout = timeout, .type = type, .family = family});
}

Result<std::pair<Socket, Socket>> socket_pair(int type) {
  int fds[2];
  if (::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, fds) < 0) return errno_error("socketpair");
  return std::pair{Socket(Fd(fds[0])), Socket(Fd(fds[1]))};
}

}  // namespace sockit::net
