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

/// Blocks until `listener` has a connection to accept, `stop` fires, or `timeout` passes
/// (negative: no timeout). Stop wins when both are ready. Restarts after EINTR.
Wakeup wait_for_connection(const net::Socket& listener, const StopSignal& stop,
                           std::chrono::milliseconds timeout = std::chrono::milliseconds(-1));

/// Sleeps up to `pause` (negative: no limit) unless `stop` fires first; true if stop was requested.
bool pause_unless_stopped(const StopSignal& stop, std::chrono::milliseconds pause);

/// Closes one connection past --max-conns and logs a line saying why.
void refuse(Client client, std::size_t max_conns, const ModelLog& log);

/// How long accepting waits after the descriptors ran out and not even one could be freed.
inline constexpr std::chrono::milliseconds kAcceptPause{50};

/// The accept loop of the models that accept on one thread (iterative, fork, thread): waits for
/// a client, accepts it and hands it to `take(Client&&)`, until stop fires. `housekeeping()`
/// runs before each wait and says how long the wait may last (negative: no limit): fork reaps
/// its children there, thread joins its finished threads. Blocks.
template <typename Housekeeping, typename Take>
void accept_until_stopped(const net::Socket& listener, const StopSignal& stop, Log* log, Housekeeping&& housekeeping,
                          Take&& take) {
  // Non-blocking: a client that went away between poll() and accept() must not block the loop.
  (void)net::set_nonblocking(listener.fd(), true);
  DescriptorSpell spell;
  Acceptor acceptor(listener, spell, ModelLog(log));
  for (;;) {
    const auto wakeup = wait_for_connection(listener, stop, housekeeping());
    if (wakeup == Wakeup::stop) return;
    if (wakeup == Wakeup::timeout) continue;
    Client client;
    const auto outcome = acceptor.accept_one(client);
    if (outcome == Acceptor::Outcome::accepted) take(std::move(client));
    if (outcome == Acceptor::Outcome::paused) pause_unless_stopped(stop, kAcceptPause);
  }
}

}  // namespace sockit::serve::models::blocking
