#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sockit::serve {

/// The wording of the per-connection log lines, shared by every model so that the same event
/// reads the same whichever model served it. Pure functions: they format, they never log.

/// "connected PEER".
std::string connected_line(std::string_view peer);
/// "closed PEER after N request(s)", then " (REASON)" when `reason` is not empty.
std::string closed_line(std::string_view peer, std::size_t requests, std::string_view reason);
/// "refused PEER: N connections already (--max-conns)".
std::string refused_line(std::string_view peer, std::size_t max_conns);
/// A duration as a reason reads it: "2 s" for whole seconds, else "500 ms".
std::string duration_text(long long milliseconds);

}  // namespace sockit::serve
