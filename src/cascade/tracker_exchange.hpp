#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cascade/protocol.hpp"
#include "net/address.hpp"
#include "net/result.hpp"
#include "net/socket.hpp"

namespace sockit::cascade {

/// One tracker exchange (cascade-protocol.md §2) on a non-blocking socket, as a state machine
/// that never waits: connect, send the 54-byte request in one write, read the 5-byte header and
/// a body of at most kMaxBody bytes. It is over as soon as 5 + length bytes are in; the
/// tracker's close is not waited for. An event loop watches fd() (for writable while
/// wants_write(), readable otherwise) and calls advance() with what it saw; the exchange has no
/// clock, so the owner gives up at its own deadline by destroying it (which closes the socket).
/// Memory: the 5 + kMaxBody bytes at most, whatever the tracker sends.
class TrackerExchange {
 public:
  /// 20 entries (the course tracker's cap) are 240 bytes; an error message is a line.
  static constexpr std::uint32_t kMaxBody = 64 * 1024;
  using Outcome = net::Result<std::vector<PeerEntry>>;

  /// Starts connecting to `tracker` (never waits). Errors known at once (a refused connect on
  /// loopback, no local ports left) come back here.
  static net::Result<TrackerExchange> start(const net::Address& tracker, TrackerCommand command,
                                            const Digest& cascade_hash, Endpoint self);

  int fd() const noexcept { return socket_.fd(); }
  /// True while connecting or sending: wait for writable; otherwise for readable.
  bool wants_write() const noexcept { return state_ != State::receiving; }

  /// Does what the socket allows now; `events` is what the loop saw (EPOLLIN, EPOLLOUT,
  /// EPOLLERR, EPOLLHUP; poll()'s POLL* bits have the same values). nullopt: not over yet, wait
  /// again. Otherwise the peers in the answer, or why there are none: the connect or I/O error, a
  /// non-zero status with the tracker's message, an answer above kMaxBody, a close mid-answer.
  /// Call no more once it returned an outcome.
  std::optional<Outcome> advance(std::uint32_t events);

  /// The requester as sent: when self.ip was 0 (listening on every address) it becomes the
  /// address this host reaches the tracker from, once connected.
  const Endpoint& self() const noexcept { return self_; }
  const net::Address& tracker() const noexcept { return tracker_; }

 private:
  enum class State { connecting, sending, receiving };

  TrackerExchange(net::Socket socket, bool connected, const net::Address& tracker, TrackerCommand command,
                  const Digest& cascade_hash, Endpoint self);
  std::optional<Outcome> send();
  std::optional<Outcome> receive();
  net::Error protocol_error(std::string detail) const;

  net::Socket socket_;
  State state_;
  net::Address tracker_;
  TrackerCommand command_;
  Digest cascade_hash_;
  Endpoint self_;
  std::array<std::byte, kTrackerRequestSize> request_{};
  std::size_t sent_ = 0;
  std::array<std::byte, 5> header_{};
  std::size_t header_got_ = 0;
  std::vector<std::byte> body_;
  std::size_t body_got_ = 0;
};

/// A failed exchange as one event line that names the tracker once: "tracker: connect to
/// 10.0.0.1:8000 failed: ..." when the error says the address already, otherwise
/// "tracker 10.0.0.1:8000: recv failed: ...".
std::string tracker_failure(const net::Address& tracker, const net::Error& error);

}  // namespace sockit::cascade
