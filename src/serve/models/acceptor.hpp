#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>

#include "net/address.hpp"
#include "net/fd.hpp"
#include "net/socket.hpp"
#include "serve/admission.hpp"
#include "serve/model.hpp"
#include "serve/models/model_log.hpp"

namespace sockit::serve::models {

/// One spell of "out of descriptors", shared by every accepting thread of a model so that it is
/// logged once, not once per thread, and does not end (and start again) each time another
/// thread's accept slips into a descriptor freed for a moment. Thread-safe.
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

/// A client just accepted: its socket (non-blocking, close-on-exec, no Nagle), its address (an
/// IPv4 client of a dual-stack listener as IPv4) and that address as log lines show it.
struct Client {
  net::Socket socket;
  std::string peer;
  net::Address address;  ///< unspecified when unknown (the client was gone already)
};

/// How long a model stops accepting after Acceptor::Outcome::paused (the descriptors ran out
/// and not even one could be freed to shed a client).
inline constexpr std::chrono::milliseconds kAcceptPause{100};

/// The accept path of every model, event-driven or blocking: one accept4() at a time, its
/// errors classified once. Faults that must not stop a server are absorbed here: EINTR,
/// ECONNABORTED, EPROTO and the network errors accept(2) says to treat like EAGAIN mean "try
/// again". EMFILE/ENFILE (out of descriptors) would otherwise spin, the listener staying readable
/// while accept keeps failing; so the acceptor holds one reserve descriptor (/dev/null): on EMFILE
/// it frees the reserve, accepts the waiting client, closes it at once (the client sees EOF
/// instead of hanging, or the service's refusal answer) and takes the reserve back. A spell of
/// that is logged once (`spell`), and every client shed as a refusal (out-of-descriptors): one
/// line and one count in the listener's counters (`log`), through turn_away().
///
/// Whether accept_one() waits is the listener's: non-blocking for loops that poll, blocking
/// with SO_RCVTIMEO for pool workers asleep in accept(). Used by one thread.
class Acceptor {
 public:
  enum class Outcome {
    accepted,  ///< `client` holds a new client
    again,     ///< nothing taken (a transient error, or a client closed for want of descriptors): try again
    drained,   ///< nobody is waiting
    paused,    ///< accept keeps failing: wait kAcceptPause before trying again
    closed,    ///< the listener listens no more (a reload shut it down): stop accepting on it
  };

  /// `log`: the endpoint's (ModelLog::for_listener).
  Acceptor(const Endpoint& endpoint, DescriptorSpell& spell, ModelLog log);

  Outcome accept_one(Client& client);
  /// Accept failed with `error` (an errno value; io_uring reports its own accepts here): logs
  /// (once per spell of EMFILE) and sheds one waiting client if the reserve allows.
  Outcome failed(int error);
  /// A client io_uring accepted: the same options and naming as accept_one() gives.
  static Client adopt(net::Fd fd);

 private:
  /// `peer` nullptr: unknown (the client is gone already), shown as "?".
  static Client client_of(net::Fd fd, const net::Address* peer);
  bool shed();

  const net::Socket& listener_;
  const Service& service_;
  DescriptorSpell& spell_;
  ModelLog log_;
  net::Fd reserve_;
  std::string local_;  // the listener's address, for log lines
};

/// Asks `endpoint`'s Admission about a client just accepted: its ticket when admitted; else the
/// client is turned away (turn_away()) and nullopt returned.
std::optional<Ticket> admit(Client& client, const Endpoint& endpoint, const ModelLog& log);

/// A refused client: it gets `service`'s answer for the refusal (Service::refusal_answer), what
/// it sent already is read and dropped (a close with unread input would reset the connection
/// and could destroy the answer), the refusal is logged with its kind and the socket closed.
/// Never blocks: one send and a few reads, all MSG_DONTWAIT.
void turn_away(Client& client, const Service& service, const Refused& refused, const ModelLog& log);

}  // namespace sockit::serve::models
