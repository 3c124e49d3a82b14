#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "net/address.hpp"
#include "net/deadline.hpp"
#include "net/result.hpp"

namespace sockit::net {

using ConstBytes = std::span<const std::byte>;
using MutableBytes = std::span<std::byte>;

inline ConstBytes as_bytes(std::string_view text) noexcept {
  return std::as_bytes(std::span(text.data(), text.size()));
}
inline std::string_view as_text(ConstBytes bytes) noexcept {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// Every call here restarts after EINTR, never raises SIGPIPE (MSG_NOSIGNAL), and on a
// non-blocking descriptor waits with poll() instead of failing, up to `deadline`. Errors name
// the peer's address when the socket has one.

/// Sends what the kernel takes now (at least one byte, waiting for room if there is none).
Result<std::size_t> send_some(int fd, ConstBytes data, Deadline deadline = Deadline::never());
/// Sends every byte, looping over short writes.
Result<void> send_all(int fd, ConstBytes data, Deadline deadline = Deadline::never());
/// Receives what has arrived (waiting for at least one byte); 0 means the peer closed (EOF).
Result<std::size_t> recv_some(int fd, MutableBytes buffer, Deadline deadline = Deadline::never());
/// Fills `buffer` completely; EOF first is an error saying how many bytes of how many arrived.
Result<void> recv_exact(int fd, MutableBytes buffer, Deadline deadline = Deadline::never());

/// Never waits: EAGAIN comes back as an error (Error::would_block()). For event loops.
Result<std::size_t> try_send(int fd, ConstBytes data);
Result<std::size_t> try_recv(int fd, MutableBytes buffer);

/// One datagram to `to` (unconnected sockets).
Result<std::size_t> send_to(int fd, ConstBytes datagram, const Address& to);
/// One datagram into `buffer` (a longer one is cut, as recvfrom does); `from` gets its sender.
Result<std::size_t> recv_from(int fd, MutableBytes buffer, Address& from,
                              Deadline deadline = Deadline::never());

/// The peer's address as text for error messages, or "" when there is none.
std::string peer_text(int fd);

}  // namespace sockit::net
