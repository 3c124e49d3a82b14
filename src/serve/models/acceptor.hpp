#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>

#include "net/fd.hpp"
#include "net/socket.hpp"
#include "serve/model.hpp"
#include "serve/models/connection.hpp"

namespace sockit::serve::models {

/// A new client, counted in --max-conns.
struct Accepted {
  net::Socket socket;
  std::string peer;
  ConnectionSlot slot;
};

/// One spell of "out of descriptors", shared by every loop of a model so that the spell is
/// logged once, not once per loop, and does not end (and start again) each time another loop's
/// accept slips into a descriptor freed for a moment. Thread-safe.
class DescriptorSpell {
 public:
  using Clock = std::chrono::steady_clock;
  /// Accept failed for want of descriptors: true when this starts a spell (log it).
  bool failed(Clock::time_point now);
  /// Accept worked: true when this ends a spell (log it), which needs a quiet second since the
  /// last failure.
  bool accepted(Clock::time_point now);

 private:
  std::mutex mutex_;
  bool active_ = false;
  Clock::time_point last_failure_{};
};

/// Accepting for one event loop on a shared non-blocking listener: --max-conns, and EMFILE/ENFILE
/// answered with a reserve descriptor (free it, accept and close the waiting client, take it
/// back) so that a full descriptor table neither stops the server nor makes it spin on a
/// listener that stays readable. Loop thread only; `open` is shared by every loop of the model.
class Acceptor {
 public:
  enum class Outcome {
    accepted,  ///< `out` holds a new client
    refused,   ///< a client was accepted and closed (--max-conns, descriptors), or went away: try again
    drained,   ///< nobody is waiting
    paused,    ///< accept keeps failing: stop watching the listener for a moment
  };

  Acceptor(const net::Socket& listener, const Limits& limits, std::atomic<std::size_t>& open, DescriptorSpell& spell,
           ModelLog log);

  /// Never blocks (the listener is non-blocking).
  Outcome accept_one(Accepted& out);
  /// A socket already accepted elsewhere (io_uring): counts it in, or closes it with one log line
  /// when --max-conns are open.
  bool admit(net::Socket socket, std::string peer, Accepted& out);
  /// Accept failed with `error` (an errno value): logs (once per spell of EMFILE) and sheds one
  /// waiting client if the reserve allows. Returns refused, or paused when nothing could be done.
  Outcome failed(int error, const std::string& what);

 private:
  bool shed();

  const net::Socket& listener_;
  const Limits& limits_;
  std::atomic<std::size_t>& open_;
  ModelLog log_;
  DescriptorSpell& spell_;
  net::Fd reserve_;
};

}  // namespace sockit::serve::models
