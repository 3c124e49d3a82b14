#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace sockit::serve {

/// Why a UDP datagram got no answer although its service would have given one (udp_guard.hpp).
enum class Refusal {
  port_zero,         ///< source port 0: nobody listens there; a reply is spoofing's echo
  this_port,         ///< the datagram claims to come from the port it was sent to: a loop with itself
  own_port,          ///< from another UDP port this server serves: a loop between two of its services
  reflector_port,    ///< from a system port or a known reflecting service's port (echo, chargen, DNS...)
  broadcast_source,  ///< broadcast, unspecified or reserved source address: no host sent it
  multicast_source,  ///< multicast source address: no host sent it
  rate_limited,      ///< the source asked for more replies than the per-source rate allows
};

inline constexpr std::size_t kRefusalKinds = 7;

/// A short name for counters and log lines: "port-zero", "rate-limited"...
constexpr std::string_view refusal_name(Refusal reason) noexcept {
  constexpr std::array<std::string_view, kRefusalKinds> names = {
      "port-zero", "this-port", "own-port", "reflector-port", "broadcast-source", "multicast-source", "rate-limited"};
  return names[static_cast<std::size_t>(reason)];
}

}  // namespace sockit::serve
