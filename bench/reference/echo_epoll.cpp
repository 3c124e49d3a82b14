// The reference point of the shoot-out: the smallest echo server this machine can run fast.
// One thread, one level-triggered epoll set, non-blocking sockets, one 64 KiB buffer shared by
// every connection; a connection keeps only the bytes the kernel would not take yet, and is not
// read again until they are gone (so a slow reader cannot make it grow).
// Usage: reference_echo [HOST:PORT]   (default 127.0.0.1:0; prints "listening on HOST:PORT")
// It runs until killed. No sockit library beyond Fd and Address: nothing between it and the
// kernel that a model could be blamed for.

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "net/address.hpp"
#include "net/fd.hpp"

namespace {

using sockit::net::Fd;

struct Connection {
  Fd fd;
  std::string unsent;
};

int fail(const char* call) {
  std::fprintf(stderr, "reference_echo: %s failed: %s\n", call, std::strerror(errno));
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const auto address = sockit::net::Address::parse(argc > 1 ? argv[1] : "127.0.0.1:0");
  if (!address) {
    std::fprintf(stderr, "reference_echo: %s\n", address.error().what());
    return 2;
  }
  Fd listener(::socket(address->family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!listener) return fail("socket");
  const int one = 1;
  ::setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(listener.get(), address->get(), address->length()) < 0) return fail("bind");
  if (::listen(listener.get(), SOMAXCONN) < 0) return fail("listen");
  sockit::net::Address bound;
  ::getsockname(listener.get(), bound.get(), bound.length_pointer());
  std::printf("listening on %s\n", bound.to_string().c_str());
  std::fflush(stdout);

  Fd epoll(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll) return fail("epoll_create1");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = listener.get();
  if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, listener.get(), &ev) < 0) return fail("epoll_ctl");

  std::vector<Connection> connections;  // indexed by descriptor
  std::vector<char> buffer(64 * 1024);
  std::vector<epoll_event> events(512);
  const auto watch = [&](int fd, std::uint32_t what) {
    epoll_event e{};
    e.events = what;
    e.data.fd = fd;
    ::epoll_ctl(epoll.get(), EPOLL_CTL_MOD, fd, &e);
  };

  for (;;) {
    const int n = ::epoll_wait(epoll.get(), events.data(), static_cast<int>(events.size()), -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("epoll_wait");
    }
    for (int i = 0; i < n; ++i) {
      const int fd = events[static_cast<std::size_t>(i)].data.fd;
      if (fd == listener.get()) {
        for (;;) {
          Fd client(::accept4(listener.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
          if (!client) break;  // EAGAIN, or EMFILE and friends: try again on the next event
          ::setsockopt(client.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          epoll_event e{};
          e.events = EPOLLIN;
          e.data.fd = client.get();
          if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, client.get(), &e) < 0) continue;
          const auto slot = static_cast<std::size_t>(client.get());
          if (connections.size() <= slot) connections.resize(slot + 1);
          connections[slot].fd = std::move(client);
          connections[slot].unsent.clear();
        }
        continue;
      }
      Connection& c = connections[static_cast<std::size_t>(fd)];
      if (!c.unsent.empty()) {  // writable again: drain, then read again
        const ssize_t sent = ::send(fd, c.unsent.data(), c.unsent.size(), MSG_NOSIGNAL);
        if (sent < 0 && errno != EAGAIN && errno != EINTR) {
          c.fd.reset();
          continue;
        }
        if (sent > 0) c.unsent.erase(0, static_cast<std::size_t>(sent));
        if (c.unsent.empty()) watch(fd, EPOLLIN);
        continue;
      }
      const ssize_t got = ::recv(fd, buffer.data(), buffer.size(), 0);
      if (got <= 0) {
        if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        c.fd.reset();  // EOF or error; close() also leaves the epoll set
        continue;
      }
      const ssize_t sent = ::send(fd, buffer.data(), static_cast<std::size_t>(got), MSG_NOSIGNAL);
      if (sent < 0 && errno != EAGAIN && errno != EINTR) {
        c.fd.reset();
        continue;
      }
      const auto done = static_cast<std::size_t>(sent < 0 ? 0 : sent);
      if (done < static_cast<std::size_t>(got)) {
        c.unsent.assign(buffer.data() + done, static_cast<std::size_t>(got) - done);
        watch(fd, EPOLLOUT);
      }
    }
  }
}
