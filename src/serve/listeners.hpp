#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "net/address.hpp"
#include "net/socket.hpp"

namespace sockit::serve {

enum class Transport { tcp, udp };

/// Which listening socket a configuration wants: a socket that stays (same key) across a reload
/// is never closed. A port-0 socket is its service's own, so that a service on "any free port"
/// keeps the port it got.
struct ListenerKey {
  Transport transport;
  std::string address;  ///< as asked for: "127.0.0.1:7000", "[::1]:0"
  std::string owner;    ///< port 0: the service; else empty

  auto operator<=>(const ListenerKey&) const = default;
};

/// A Server's listening sockets, shared by the model runs that use them (a draining run keeps
/// its own until it ends).
using Listeners = std::map<ListenerKey, std::shared_ptr<net::Socket>>;

/// `listen` as given, or loopback: 127.0.0.1, and ::1 where the host has IPv6 (Redis's
/// protected mode: a kernel booted with ipv6.disable=1, a container without it, has no ::1).
std::vector<net::Address> listen_addresses(const std::vector<net::Address>& listen);

/// The sockets of one service's transport on `addresses` and `port`, one per address: those of
/// `current` it had already, the rest bound now. For port 0 all are bound anew unless all were
/// there (its addresses share the port the first one gets; UDP tries `preferred` first, the port
/// TCP got). Adds them to `wanted`. Throws net::Error when a bind fails (naming the address);
/// what it bound is closed again.
std::vector<std::shared_ptr<net::Socket>> listeners_for(const std::string& service, Transport transport,
                                                        const std::vector<net::Address>& addresses,
                                                        std::uint16_t port, std::optional<std::uint16_t> preferred,
                                                        const Listeners& current, Listeners& wanted);

}  // namespace sockit::serve
