#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/address.hpp"
#include "serve/refusal.hpp"

namespace sockit::serve {

/// What a UDP server knows of itself when it judges a datagram's source.
struct SourcePolicy {
  std::vector<std::uint16_t> own_ports;   ///< every UDP port this server serves
  std::vector<std::uint32_t> broadcasts;  ///< directed broadcast addresses of the host's interfaces (IPv4, host order)
};

/// Whether a datagram from `source` to a listener on `listener_port` must go unanswered whatever
/// it says, and why (openbsd-inetd's dg_badinput, and more): port 0; an address no host sends
/// from (broadcast, multicast, unspecified, 0/8, 240/4); the listener's own port; another UDP port
/// of this server; a system port (below 1024) or a known reflector's port (reflector_port()).
/// IPv4-mapped IPv6 sources are judged as the IPv4 address they stand for. Pure and thread-safe.
std::optional<Refusal> check_source(const net::Address& source, std::uint16_t listener_port,
                                    const SourcePolicy& policy);

/// What listens on `port` when a datagram from there must not be answered: "chargen",
/// "sockit echo", "a system port"...; nullopt for a port that is not on the list. The list: every
/// port below 1024 (as openbsd-inetd), the UDP services that answer anything or whose answers
/// have been used for reflection and amplification (CVE-1999-0103, US-CERT TA14-017A: SSDP,
/// memcached, mDNS, ...), and sockit's own default UDP ports. Ports from 32768 up are left out:
/// they are ephemeral on Linux (32768-60999) and elsewhere (49152-65535), so real clients get
/// them by chance; a loop through one is still ended by the rate limit (source_rate.hpp).
std::optional<std::string_view> reflector_port(std::uint16_t port);

/// The directed broadcast addresses of this host's IPv4 interfaces now (getifaddrs); empty if
/// that fails. Interfaces that come up later are not seen.
std::vector<std::uint32_t> interface_broadcasts();

}  // namespace sockit::serve
