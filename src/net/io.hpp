#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
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

// Every call here restarts after EINTR, never raises SIGPIPE (MSG_NOSIGNAL), tries first
// without waiting (MSG_DONTWAIT) and then waits with poll() up to `deadline`, on a blocking
// descriptor as on a non-blocking one: the deadline is the only timeout (SO_RCVTIMEO and
// SO_SNDTIMEO do not apply). Errors name the peer's address when the socket has one.

/// Sends what the kernel takes now (at least one byte, waiting for room if there is none).
Result<std::size_t> send_some(int fd, ConstBytes data, Deadline deadline = Deadline::never());
/// Sends every byte, looping over short writes.
Result<void> send_all(int fd, ConstBytes data, Deadline deadline = Deadline::never());
/// Writes every byte to a file or pipe with write(), looping over short writes and EINTR (a log
/// line is one write() when the descriptor takes it whole). Blocks as the descriptor does.
Result<void> write_all(int fd, ConstBytes data);
/// Receives what has arrived (waiting for at least one byte); 0 means the peer closed (EOF).
Result<std::size_t> recv_some(int fd, MutableBytes buffer, Deadline deadline = Deadline::never());
/// Fills `buffer` completely; EOF first is an error saying how many bytes of how many arrived.
Result<void> recv_exact(int fd, MutableBytes buffer, Deadline deadline = Deadline::never());

/// What a call that never waits did: how many bytes, or nullopt when it would have had to wait
/// (EAGAIN). Would-block is routine in an event loop, so it is a value, not an Error.
using Transferred = std::optional<std::size_t>;

/// Bytes that arrived on socket `fd` and were not read yet (FIONREAD); 0 when it cannot tell.
std::size_t unread_bytes(int fd) noexcept;

/// Never waits (MSG_DONTWAIT). For event loops. try_recv() gives 0 at EOF. `more_follows`
/// (MSG_MORE) holds a short send back until the next one, so that both leave in one segment.
Result<Transferred> try_send(int fd, ConstBytes data, bool more_follows = false);
Result<Transferred> try_recv(int fd, MutableBytes buffer);
/// Never waits: sends up to `length` bytes of the file `file` from `offset` (sendfile(2)), which
/// the kernel copies without passing them through user memory. `fd` must be non-blocking for
/// this not to wait. 0 means the file ended before `offset`: it shrank. Errors name the peer.
/// Unlike send, it cannot suppress SIGPIPE: call it under a net::SigpipeBlock.
Result<Transferred> try_sendfile(int fd, int file, std::uint64_t offset, std::size_t length);

/// One datagram to `to` (unconnected sockets).
Result<std::size_t> send_to(int fd, ConstBytes datagram, const Address& to);
/// One datagram into `buffer` (a longer one is cut, as recvfrom does); `from` gets its sender.
Result<std::size_t> recv_from(int fd, MutableBytes buffer, Address& from,
                              Deadline deadline = Deadline::never());

/// The peer's address as text for error messages, or "" when there is none.
std::string peer_text(int fd);

}  // namespace sockit::net
