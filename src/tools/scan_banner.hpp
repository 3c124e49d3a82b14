#pragma once

#include <cstdint>
#include <vector>

#include "net/address.hpp"
#include "net/result.hpp"
#include "tools/scan.hpp"

namespace sockit::tools {

/// Reads the banner of every open port in `ports` of `target`, up to options.parallel at once
/// on one epoll: connects, waits a quarter of options.banner_timeout (at most 500 ms) for the
/// service to speak, else sends kBannerProbe, and reads until banner_complete() or
/// options.banner_timeout since the connect began. Fills each port's banner, identified and
/// server. Returns the ports it finished: every open one, unless options.stop_requested said
/// stop. Fails only when it cannot go on (epoll failure).
net::Result<std::vector<std::uint16_t>> grab_banners(const net::Address& target, std::vector<PortResult>& ports,
                                                     const ScanOptions& options);

}  // namespace sockit::tools
