#include "serve/listeners.hpp"

#include <algorithm>

namespace sockit::serve {
namespace {

bool has_ipv6_loopback() {
  auto probe = net::Socket::create(AF_INET6, SOCK_DGRAM);
  return probe && static_cast<bool>(probe->bind(net::Address::loopback(AF_INET6, 0)));
}

using Bind = net::Result<net::Socket> (*)(const net::Address&);

net::Result<net::Socket> bind_tcp(const net::Address& address) { return net::listen_on(address); }
net::Result<net::Socket> bind_udp(const net::Address& address) { return net::bind_datagram(address); }

// One socket per address, all on `port`; for port 0 the first address picks it and the rest follow.
net::Result<std::vector<net::Socket>> bind_at(const std::vector<net::Address>& addresses, std::uint16_t port,
                                              Bind bind) {
  std::vector<net::Socket> sockets;
  for (net::Address address : addresses) {
    address.set_port(port);
    auto socket = bind(address);
    if (!socket) return socket.error();
    if (port == 0) {
      auto local = socket->local_address();
      if (!local) return local.error();
      port = local->port();
    }
    sockets.push_back(std::move(*socket));
  }
  return sockets;
}

// `port` on every address; for port 0, `preferred` (UDP gets the port TCP got) if it is free on
// all of them, else any port that is: the one 127.0.0.1 gets may be taken on ::1, so try again.
std::vector<net::Socket> bind_service(const std::vector<net::Address>& addresses, std::uint16_t port,
                                      std::optional<std::uint16_t> preferred, Bind bind) {
  if (port != 0) return bind_at(addresses, port, bind).value();
  if (preferred)
    if (auto sockets = bind_at(addresses, *preferred, bind)) return std::move(*sockets);
  constexpr int kTries = 8;
  for (int attempt = 1;; ++attempt) {
    auto sockets = bind_at(addresses, 0, bind);
    if (sockets || attempt == kTries || sockets.error().code() != std::errc::address_in_use)
      return std::move(sockets).value();
  }
}

ListenerKey key_of(Transport transport, net::Address address, std::uint16_t port, const std::string& service) {
  address.set_port(port);
  return {transport, address.to_string(), port == 0 ? service : std::string()};
}

}  // namespace

std::vector<net::Address> listen_addresses(const std::vector<net::Address>& listen) {
  if (!listen.empty()) return listen;
  std::vector<net::Address> all{net::Address::loopback(AF_INET, 0)};
  if (has_ipv6_loopback()) all.push_back(net::Address::loopback(AF_INET6, 0));
  return all;
}

std::vector<std::shared_ptr<net::Socket>> listeners_for(const std::string& service, Transport transport,
                                                        const std::vector<net::Address>& addresses,
                                                        std::uint16_t port, std::optional<std::uint16_t> preferred,
                                                        const Listeners& current, Listeners& wanted) {
  std::vector<ListenerKey> keys;
  for (const auto& address : addresses) keys.push_back(key_of(transport, address, port, service));
  const auto bind = transport == Transport::tcp ? bind_tcp : bind_udp;
  std::vector<std::shared_ptr<net::Socket>> sockets(keys.size());
  const bool all_there = std::all_of(keys.begin(), keys.end(), [&](const auto& k) { return current.contains(k); });
  if (port == 0 && !all_there) {
    auto fresh = bind_service(addresses, 0, preferred, bind);
    for (std::size_t i = 0; i < keys.size(); ++i) sockets[i] = std::make_shared<net::Socket>(std::move(fresh[i]));
  } else {
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const auto found = current.find(keys[i]);
      sockets[i] = found != current.end()
                       ? found->second
                       : std::make_shared<net::Socket>(std::move(bind_service({addresses[i]}, port, {}, bind).front()));
    }
  }
  for (std::size_t i = 0; i < keys.size(); ++i) wanted[keys[i]] = sockets[i];
  return sockets;
}

}  // namespace sockit::serve
