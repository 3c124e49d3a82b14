#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <string_view>
#include <utility>

#include "net/address.hpp"
#include "net/deadline.hpp"
#include "net/fd.hpp"
#include "net/result.hpp"

namespace sockit::net {

/// Owns one socket. Move-only; every socket is created close-on-exec.
class Socket {
 public:
  Socket() = default;
  explicit Socket(Fd fd) noexcept : fd_(std::move(fd)) {}

  static Result<Socket> create(int family, int type, int protocol = 0);

  int fd() const noexcept { return fd_.get(); }
  bool valid() const noexcept { return fd_.valid(); }
  explicit operator bool() const noexcept { return valid(); }
  /// Gives the descriptor's ownership to the caller.
  Fd release() noexcept { return std::move(fd_); }
  void close() noexcept { fd_.reset(); }

  Result<void> bind(const Address& address);
  Result<void> listen(int backlog);
  /// Blocks (unless non-blocking) for the next connection; fills `peer` when given.
  /// `flags` are accept4()'s: SOCK_CLOEXEC always, SOCK_NONBLOCK on request.
  Result<Socket> accept(Address* peer = nullptr, int flags = 0) const;
  /// Connects; with a deadline the connect is non-blocking and waited for with poll(), and the
  /// socket is back in its former blocking mode afterwards.
  Result<void> connect(const Address& address, Deadline deadline = Deadline::never());
  /// The outcome of a connect started by start_connect(), once the socket is writable (SO_ERROR):
  /// the error names `to`.
  Result<void> finish_connect(const Address& to) const;
  /// Starts connecting this (non-blocking) socket and never waits: true when connected at once,
  /// false when the outcome comes later as writable + SO_ERROR (see start_connect()).
  Result<bool> begin_connect(const Address& to);
  /// connect(AF_UNSPEC): drops the socket's peer, so a TCP socket whose connect failed may
  /// connect again (cheaper than a new socket: the port scanner reuses one for every refusal).
  Result<void> disconnect();
  Result<void> shutdown(int how);
  Result<void> set_nonblocking(bool on = true);

  Result<Address> local_address() const;
  Result<Address> peer_address() const;
  /// SO_ERROR: the pending error of the socket (clears it), 0 if none.
  Result<int> pending_error() const;

 private:
  Fd fd_;
};

struct ListenOptions {
  int backlog = SOMAXCONN;
  bool dual_stack = true;    ///< an IPv6 wildcard socket also accepts IPv4 (IPV6_V6ONLY off)
  bool nonblocking = false;
};

/// A listening stream socket on `address` (SO_REUSEADDR always, which for TCP only skips
/// TIME_WAIT; never SO_REUSEPORT, which would let another process share the port and take its
/// connections). Port 0 picks a free port: ask local_address() which one. A Unix path must not
/// exist yet.
Result<Socket> listen_on(const Address& address, const ListenOptions& options = {});

/// A datagram socket bound to `address` (UDP or Unix datagram), exclusively: another socket
/// binding the same UDP address and port fails with EADDRINUSE, whatever options it sets. An
/// IPv6 wildcard also receives IPv4 (dual-stack).
Result<Socket> bind_datagram(const Address& address);

/// A non-blocking connect, started and perhaps already done.
struct Connecting {
  Socket socket;   ///< non-blocking
  bool connected;  ///< finished at once (a Unix socket, often loopback): nothing to wait for
};

/// Creates a non-blocking socket of `to`'s family and starts connecting it; never waits (for
/// event loops: the scanner, the downloader, the load generator). Unless `connected`, watch the
/// socket for writable, then call Socket::finish_connect(). Errors known at once come back here
/// (ECONNREFUSED is common on loopback, EAGAIN when the local ports are used up).
Result<Connecting> start_connect(const Address& to, int type = SOCK_STREAM);

/// Connects a stream (or datagram: fixes the peer) socket to `address` within `timeout`
/// (zero or negative: no timeout).
Result<Socket> connect_to(const Address& address, std::chrono::milliseconds timeout = {},
                          int type = SOCK_STREAM);

struct ConnectOptions {
  std::chrono::milliseconds timeout{};  ///< for every address together; zero or negative: none
  int type = SOCK_STREAM;
  int family = AF_UNSPEC;
  bool numeric = false;          ///< host and service are numbers: no DNS, no /etc/services
  std::uint16_t local_port = 0;  ///< bind to this port first (SO_REUSEADDR), as nc -p; 0: any
};

/// Resolves `host`/`service` and tries every address in turn, each within what is left of the
/// timeout, until one connects; the error is the last address's. Unix: host "unix:/path".
Result<Socket> connect_to(std::string_view host, std::string_view service, const ConnectOptions& options);
Result<Socket> connect_to(std::string_view host, std::string_view service,
                          std::chrono::milliseconds timeout = {}, int type = SOCK_STREAM,
                          int family = AF_UNSPEC);

/// A connected pair (socketpair(AF_UNIX, type)).
Result<std::pair<Socket, Socket>> socket_pair(int type = SOCK_STREAM);

}  // namespace sockit::net
