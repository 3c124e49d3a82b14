#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "net/address.hpp"
#include "net/fd.hpp"
#include "net/socket.hpp"
#include "serve/log.hpp"
#include "serve/stop_signal.hpp"

namespace sockit::serve::models::blocking {

/// A connection accept() handed over, with its peer's address.
struct Accepted {
  net::Socket socket;
  net::Address peer;
};

/// A peer's address for log lines: an IPv4 client of a dual-stack listener shows as
/// "127.0.0.1:50312", not "[::ffff:127.0.0.1]:50312".
std::string peer_name(const net::Address& peer);

/// What woke wait_for_connection().
enum class Wakeup { connection, stop, timeout };

/// Blocks until `listener` has a connection to accept, `stop` fires, or `timeout` passes
/// (negative: no timeout). Stop wins when both are ready. Restarts after EINTR.
Wakeup wait_for_connection(const net::Socket& listener, const StopSignal& stop,
                           std::chrono::milliseconds timeout = std::chrono::milliseconds(-1));

/// Sleeps up to `pause` (negative: no limit) unless `stop` fires first; true if stop was requested.
bool pause_unless_stopped(const StopSignal& stop, std::chrono::milliseconds pause);

/// The accepting half of every model: one accept4() at a time on a listener it switches to
/// non-blocking, so a connection that vanished between poll() and accept() never blocks the loop
/// (or, for a model whose threads wait in accept() itself, to blocking).
///
/// Faults that must not stop a server are absorbed here: EINTR, ECONNABORTED, EPROTO and the
/// network errors accept(2) says to treat like EAGAIN give "nothing now". EMFILE/ENFILE (out of
/// descriptors) would otherwise spin: the listener stays readable and accept() keeps failing. So
/// the acceptor holds one reserve descriptor (/dev/null); on EMFILE it frees the reserve, accepts
/// the pending connection, closes it at once (the client sees EOF instead of hanging), and takes
/// the reserve back. It logs once per episode and once when accepting works again.
///
/// Used by one thread at a time (each accept loop owns its acceptor).
class Acceptor {
 public:
  enum class Waiting {
    in_poll,    ///< the caller polls; accept_one() never blocks
    in_accept,  ///< accept_one() blocks, up to the listener's SO_RCVTIMEO
  };
  /// `log` may be nullptr.
  Acceptor(const net::Socket& listener, Log* log, Waiting waiting = Waiting::in_poll);

  /// One accept4(). nullopt when there was nothing to take (or it had to be dropped for lack
  /// of descriptors); the caller goes back to waiting.
  std::optional<Accepted> accept_one();

  /// True when accept failed for lack of descriptors and not even the reserve could be had
  /// back: the pending connection is still queued, so the caller should back off a little
  /// (wait_for_connection with a short timeout) instead of polling again at once.
  bool starved() const noexcept { return starved_ && !reserve_; }

 private:
  void drop_one_pending(int err);

  const net::Socket& listener_;
  Log* log_;
  net::Fd reserve_;
  bool starved_ = false;
  std::string local_;
};

/// Accepts-and-closes one connection past --max-conns and logs a line saying why.
void refuse(Accepted connection, std::size_t max_conns, Log* log);

}  // namespace sockit::serve::models::blocking
