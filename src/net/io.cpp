#include "net/io.hpp"

#include <poll.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace sockit::net {
namespace {

bool would_block(int err) { return err == EAGAIN || err == EWOULDBLOCK; }

// Runs `attempt` (a send or recv that never waits: MSG_DONTWAIT) until it succeeds or fails for
// real, waiting for `events` up to `deadline` whenever the socket would block. Try first, then
// wait for the time left (Redis's syncio.c): waiting for readiness and then calling a blocking
// send() can still block for good, since writable promises room for one byte, not for all.
template <typename Attempt>
Result<std::size_t> retry(int fd, short events, Deadline deadline, const char* call, Attempt attempt) {
  for (;;) {
    const ssize_t n = attempt();
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno == EINTR) continue;
    if (!would_block(errno)) return errno_error(call, peer_text(fd));
    auto ready = wait_ready(fd, events, deadline, call);
    if (!ready) return Error(call, ready.error().code(), peer_text(fd));
  }
}

}  // namespace

std::string peer_text(int fd) {
  // Callers build an error from errno after this: getpeername() failing on a reset socket
  // (ENOTCONN) must not replace the errno being reported.
  const int saved = errno;
  Address peer;
  const int rc = ::getpeername(fd, peer.get(), peer.length_pointer());
  errno = saved;
  if (rc < 0) return {};
  if (peer.family() == AF_UNIX && peer.host().empty()) return {};
  return peer.to_string();
}

Result<std::size_t> send_some(int fd, ConstBytes data, Deadline deadline) {
  return retry(fd, POLLOUT, deadline, "send",
               [&] { return ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT); });
}

Result<void> send_all(int fd, ConstBytes data, Deadline deadline) {
  while (!data.empty()) {
    auto sent = send_some(fd, data, deadline);
    if (!sent) return sent.error();
    data = data.subspan(*sent);
  }
  return {};
}

Result<void> write_all(int fd, ConstBytes data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_error("write");
    data = data.subspan(static_cast<std::size_t>(n));
  }
  return {};
}

Result<std::size_t> recv_some(int fd, MutableBytes buffer, Deadline deadline) {
  return retry(fd, POLLIN, deadline, "recv", [&] { return ::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT); });
}

Result<void> recv_exact(int fd, MutableBytes buffer, Deadline deadline) {
  std::size_t got = 0;
  while (got < buffer.size()) {
    auto n = recv_some(fd, buffer.subspan(got), deadline);
    if (!n) return n.error();
    if (*n == 0)
      return Error("recv_exact", Errc::unexpected_eof, peer_text(fd),
                   std::to_string(got) + " of " + std::to_string(buffer.size()) + " bytes arrived");
    got += *n;
  }
  return {};
}

std::size_t unread_bytes(int fd) noexcept {
  int bytes = 0;
  return ::ioctl(fd, FIONREAD, &bytes) == 0 && bytes > 0 ? static_cast<std::size_t>(bytes) : 0;
}

Result<Transferred> try_send(int fd, ConstBytes data, bool more_follows) {
  const int flags = MSG_NOSIGNAL | MSG_DONTWAIT | (more_follows ? MSG_MORE : 0);
  for (;;) {
    ssize_t n = ::send(fd, data.data(), data.size(), flags);
    if (n >= 0) return Transferred(static_cast<std::size_t>(n));
    if (errno == EINTR) continue;
    if (would_block(errno)) return Transferred();
    return errno_error("send", peer_text(fd));
  }
}

Result<Transferred> try_recv(int fd, MutableBytes buffer) {
  for (;;) {
    ssize_t n = ::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (n >= 0) return Transferred(static_cast<std::size_t>(n));
    if (errno == EINTR) continue;
    if (would_block(errno)) return Transferred();
    return errno_error("recv", peer_text(fd));
  }
}

Result<Transferred> try_sendfile(int fd, int file, std::uint64_t offset, std::size_t length) {
  for (;;) {
    auto at = static_cast<off_t>(offset);
    // sendfile() cannot take MSG_NOSIGNAL: see SigpipeBlock.
    ssize_t n = ::sendfile(fd, file, &at, length);
    if (n >= 0) return Transferred(static_cast<std::size_t>(n));
    if (errno == EINTR) continue;
    if (would_block(errno)) return Transferred();
    return errno_error("sendfile", peer_text(fd));
  }
}

Result<std::size_t> send_to(int fd, ConstBytes datagram, const Address& to) {
  for (;;) {
    ssize_t n = ::sendto(fd, datagram.data(), datagram.size(), MSG_NOSIGNAL, to.get(), to.length());
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno != EINTR) return errno_error("sendto", to.to_string());
  }
}

Result<std::size_t> recv_from(int fd, MutableBytes buffer, Address& from, Deadline deadline) {
  return retry(fd, POLLIN, deadline, "recvfrom", [&] {
    *from.length_pointer() = Address::capacity();
    return ::recvfrom(fd, buffer.data(), buffer.size(), MSG_DONTWAIT, from.get(), from.length_pointer());
  });
}

}  // namespace sockit::net
