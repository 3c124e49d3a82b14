#pragma once

#include <span>
#include <vector>

#include "net/address.hpp"
#include "net/result.hpp"
#include "tools/scan.hpp"

namespace sockit::tools {

/// What one run of probes found.
struct ProbeRun {
  std::vector<PortResult> ports;  ///< sorted by port; only ports with a state (all, unless interrupted)
  int probes_sent = 0;
  bool interrupted = false;  ///< options.stop_requested said stop: probes in flight were dropped
};

/// Probes `ports` of `target` on one thread with one epoll: up to options.parallel probes in
/// flight, options.retries more for a port that stays silent past options.timeout, at most
/// options.rate new probes a second (0: no limit). Checks options.stop_requested at least every
/// 100 ms. Fails only when the run itself cannot go on (no socket at all, epoll failure).
net::Result<ProbeRun> run_probes(const net::Address& target, ScanProtocol protocol,
                                 std::span<const std::uint16_t> ports, const ScanOptions& options);

}  // namespace sockit::tools
