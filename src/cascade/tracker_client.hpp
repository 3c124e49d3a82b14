#pragma once

#include <chrono>
#include <vector>

#include "cascade/protocol.hpp"
#include "net/address.hpp"
#include "net/result.hpp"

namespace sockit::cascade {

/// One tracker request (list or subscribe) for `hash` on behalf of `self`, sent in one write;
/// blocking (for the seeding loop; the download loop drives a TrackerExchange itself);
/// returns the peers in the answer. Blocks up to `timeout` for the whole exchange. When
/// self.ip is 0 (listening on every address) it becomes the address this host reaches the
/// tracker from. A non-zero status is an error carrying the tracker's message.
net::Result<std::vector<PeerEntry>> ask_tracker(const net::Address& tracker, TrackerCommand command,
                                                const Digest& hash, Endpoint& self,
                                                std::chrono::milliseconds timeout);

}  // namespace sockit::cascade
