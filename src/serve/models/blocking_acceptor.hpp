#pragma once

#include <chrono>

#include "net/deadline.hpp"
#include "net/socket.hpp"
#include "serve/log.hpp"
#include "serve/models/acceptor.hpp"
#include "serve/stop_signal.hpp"

namespace sockit::serve::models::blocking {

/// What woke wait_for_connection().
enum class Wakeup { connection, stop, timeout };

/// Blocks until `listener` has a connection to accept, `stop` drains or stops, or `timeout`
/// passes (negative: no timeout). Stop wins when both are ready. Restarts after EINTR.
Wakeup wait_for_connection(const net::Socket& listener, const StopSignal& stop,
                           std::chrono::milliseconds timeout = std::chrono::milliseconds(-1));

/// Sleeps up to `pause` (negative: no limit) unless `stop` fires first; true if stop was requested.
bool pause_unless_stopped(const StopSignal& stop, std::chrono::milliseconds pause);

/// After drain: blocks until `open()` (the connections still served) is 0 or stop is requested,
/// looking every `tick`; `housekeeping()` runs each time round (fork reaps its children).
template <typename Open, typename Housekeeping>
void wait_for_drain(const StopSignal& stop, std::chrono::milliseconds tick, Open&& open, Housekeeping&& housekeeping) {
  for (housekeeping(); open() > 0 && !pause_unless_stopped(stop, tick); housekeeping()) {
  }
}

/// The accept loop of the models that accept on one thread (iterative, fork, thread): waits for
/// a client, accepts it, asks its Admission (a refused client is turned away here) and hands it
/// with its ticket to `take(Client&&, Ticket&&)`, until stop drains or stops. `housekeeping()`
/// runs before each wait and says how long the wait may last (negative: no limit): fork reaps
/// its children there, thread joins its finished threads. Blocks.
template <typename Housekeeping, typename Take>
void accept_until_stopped(const Endpoint& endpoint, const StopSignal& stop, const ModelLog& log,
                          Housekeeping&& housekeeping, Take&& take) {
  // Non-blocking: a client that went away between poll() and accept() must not block the loop.
  (void)net::set_nonblocking(endpoint.listener.fd(), true);
  DescriptorSpell spell;
  Acceptor acceptor(endpoint, spell, log);
  for (;;) {
    Client client;
    Acceptor::Outcome outcome;
    {
      // May take a client from here until the accept is over (StopSignal::Accepting).
      const StopSignal::Accepting accepting(stop);
      if (stop.draining()) return;
      const auto wakeup = wait_for_connection(endpoint.listener, stop, housekeeping());
      if (wakeup == Wakeup::stop) return;
      if (wakeup == Wakeup::timeout) continue;
      outcome = acceptor.accept_one(client);
    }
    if (outcome == Acceptor::Outcome::closed) return;
    if (outcome == Acceptor::Outcome::accepted)
      if (auto ticket = admit(client, endpoint, log)) take(std::move(client), std::move(*ticket));
    if (outcome == Acceptor::Outcome::paused) pause_unless_stopped(stop, kAcceptPause);
  }
}

}  // namespace sockit::serve::models::blocking
