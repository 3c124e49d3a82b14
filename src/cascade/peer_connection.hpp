#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cascade/block_answer.hpp"
#include "cascade/protocol.hpp"
#include "net/address.hpp"
#include "net/result.hpp"
#include "net/socket.hpp"

namespace sockit::cascade {

/// `endpoint` as an IPv4 socket address.
net::Address address_of(const Endpoint& endpoint);

/// One persistent, non-blocking connection to a peer's block server (cascade-protocol.md §3,
/// client side): requests queued and sent each with its own send() (the course peer reads one
/// request per recv), answers read straight into a BlockAnswerParser and handed out in request
/// order. It knows nothing of which blocks to ask for (BlockPicker) or what to do with them
/// (the Downloader); it never waits and has no clock of its own.
///
/// Closing is deferred: close_later() only marks the connection (with why, and whether to ban
/// the peer); it takes no more requests and hands out no more answers, and its owner destroys it
/// at a safe point after the event dispatch, so whoever holds a reference to it during a
/// callback can still look at it. Memory: one block (or message) in the parser plus the queued
/// requests (64 bytes each), whatever the peer sends.
class PeerConnection {
 public:
  using Clock = std::chrono::steady_clock;
  /// recv calls per read_some(): one fast peer cannot starve the others (a level-triggered
  /// loop reports the rest again).
  static constexpr int kReadsPerEvent = 16;

  /// What an answer answers, with the answer.
  struct Answer {
    std::uint64_t index = 0;
    std::uint8_t status = 0;
    std::span<const std::byte> body;  ///< valid during the callback only
  };

  /// Starts connecting to `peer` (never waits); errors known at once (refused) come back here.
  static net::Result<PeerConnection> open(Endpoint peer, Clock::time_point now);

  const Endpoint& peer() const noexcept { return peer_; }
  int fd() const noexcept { return socket_.fd(); }
  bool connecting() const noexcept { return connecting_; }
  /// The connect's outcome, once the socket reported writable (or an error). Sets TCP_NODELAY.
  net::Result<void> finish_connect(Clock::time_point now);
  /// When connecting started, and when bytes last arrived (or the first request was queued).
  Clock::time_point started() const noexcept { return started_; }
  Clock::time_point last_progress() const noexcept { return last_progress_; }

  /// Queues the 64-byte request for block `index` of `length` bytes; send with flush().
  void request(std::uint64_t index, std::uint64_t length, const Digest& cascade_hash, Clock::time_point now);
  /// Sends what is queued, each request with its own send(), until the socket is full. A failed
  /// send closes the connection (later).
  void flush();
  /// Reads what has arrived (at most kReadsPerEvent recv calls) and calls `on_answer` for every
  /// complete answer, in request order; stops once the connection is closing (on_answer may
  /// close it). EOF, a reset or a malformed stream close it (a block of the wrong length also
  /// bans the peer); the stray status-4 message is skipped.
  void read_some(Clock::time_point now, const std::function<void(const Answer&)>& on_answer);

  /// Requests sent or queued, not answered yet.
  std::size_t in_flight() const noexcept { return in_flight_.size(); }
  /// EPOLLIN, plus EPOLLOUT while connecting or while requests wait to be sent.
  std::uint32_t interest() const noexcept;

  /// Marks the connection to be closed at the next safe point. `reason` empty: a quiet close
  /// (the file is complete); `ban`: the peer broke the protocol or sent a bad block. The first
  /// call wins.
  void close_later(std::string reason, bool ban = false);
  bool closing() const noexcept { return closing_; }
  const std::string& close_reason() const noexcept { return close_reason_; }
  bool ban() const noexcept { return ban_; }

 private:
  PeerConnection(Endpoint peer, net::Socket socket, bool connecting, Clock::time_point now);

  struct Pending {
    std::uint64_t index;
    std::uint64_t length;
  };

  Endpoint peer_;
  net::Socket socket_;
  bool connecting_;
  Clock::time_point started_;
  Clock::time_point last_progress_;
  std::deque<Pending> in_flight_;    // requested blocks, in the order their answers come
  std::vector<std::byte> outbuf_;    // whole requests not yet sent
  std::size_t out_sent_ = 0;
  BlockAnswerParser parser_;
  bool closing_ = false;
  bool ban_ = false;
  std::string close_reason_;
};

}  // namespace sockit::cascade
