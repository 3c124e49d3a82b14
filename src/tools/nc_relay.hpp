#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "net/result.hpp"

namespace sockit::tools {

/// What a relay moved and how it ended.
struct RelayResult {
  std::uint64_t sent = 0;      ///< bytes (or datagram payload bytes) from input to the socket
  std::uint64_t received = 0;  ///< bytes from the socket to output
  bool timed_out = false;      ///< ended because nothing moved for the idle timeout
  bool zero_copy = false;      ///< some bytes moved with splice() instead of read/write
  bool output_closed = false;  ///< ended because whoever read the output went away (EPIPE)
};

struct RelayOptions {
  /// Ends the relay when nothing moves in either direction for this long (0: never).
  std::chrono::milliseconds idle_timeout{0};
  /// Datagrams only: after input EOF, keep receiving until no datagram came for this long
  /// (0: until idle_timeout, or forever).
  std::chrono::milliseconds linger_after_input_eof{0};
  /// Names the peer in errors; empty: asked from the socket (a socket reset before the relay
  /// starts has no peer any more, so callers that know it should say).
  std::string peer_name;
  /// nc -q: after input EOF, end this long later even if the peer has not finished (0: at once).
  std::optional<std::chrono::milliseconds> quit_after_input_eof;
  /// Datagrams only: input that ends without a byte still sends one empty datagram, the way to
  /// ask a UDP daytime or time server (`nc -u HOST 13 < /dev/null`).
  bool ask_on_empty_input = false;
};

/// Copies `input` to the connected stream socket `socket` and `socket` to `output`, both at once,
/// until both directions are finished. Half-close is done the TCP way: input EOF sends FIN
/// (shutdown(SHUT_WR)) and the relay keeps reading until the peer closes; the peer's FIN ends
/// the receiving direction, and the relay then waits for input EOF too, unless input is a
/// terminal (nobody would type the EOF). Bulk bytes move with splice() through a pipe (no copy
/// to user space) where both ends allow it, else with read/write.
/// Blocks. Borrows the descriptors; sets `socket` non-blocking, leaves input/output as they are.
/// Fails when a read or write fails (a reset, a peer that closed before taking all input). An
/// output whose reader left (EPIPE) ends the relay without an error, with `output_closed`, as
/// `nc ... | head` expects. SIGPIPE is blocked in the calling thread meanwhile (never raised).
net::Result<RelayResult> relay_stream(int input, int output, int socket, const RelayOptions& options);

/// Datagram relay over a connected datagram socket: each read of `input` is one datagram, each
/// datagram received is written to `output`. Input EOF sends nothing (UDP has no FIN); the relay
/// then ends after `linger_after_input_eof` without a datagram, or on the idle timeout.
/// ICMP port unreachable from the peer is an error (Connection refused); a closed output ends it
/// as relay_stream does. Blocks; borrows.
net::Result<RelayResult> relay_datagrams(int input, int output, int socket, const RelayOptions& options);

}  // namespace sockit::tools
