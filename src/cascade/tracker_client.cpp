#include "cascade/tracker_client.hpp"

#include <poll.h>

#include "cascade/tracker_exchange.hpp"
#include "net/deadline.hpp"

namespace sockit::cascade {

// The blocking form of the download loop's TrackerExchange: the same exchange, driven by poll()
// with one deadline for all of it.
net::Result<std::vector<PeerEntry>> ask_tracker(const net::Address& tracker, TrackerCommand command,
                                                const Digest& hash, Endpoint& self,
                                                std::chrono::milliseconds timeout) {
  const auto deadline = net::Deadline::after(timeout);
  auto exchange = TrackerExchange::start(tracker, command, hash, self);
  if (!exchange) return exchange.error();
  // Bounded: every pass waits on the same deadline, and the exchange ends once it is past.
  for (;;) {
    const short wanted = exchange->wants_write() ? POLLOUT : POLLIN;
    auto ready = net::wait_ready(exchange->fd(), wanted, deadline, "tracker request");
    if (!ready) return net::Error("tracker request", ready.error().code(), tracker.to_string());
    if (auto outcome = exchange->advance(static_cast<std::uint16_t>(*ready))) {
      self = exchange->self();
      return std::move(*outcome);
    }
  }
}

}  // namespace sockit::cascade
