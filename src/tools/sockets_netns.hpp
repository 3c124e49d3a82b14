#pragma once

#include <string>
#include <vector>

#include "net/result.hpp"
#include "tools/sockets.hpp"

namespace sockit::tools {

/// A network namespace and a file that names it.
struct NetworkNamespace {
  std::string label;  ///< the name in /run/netns, else "pid:N" (the lowest pid in it)
  std::string path;   ///< /run/netns/NAME or /proc/N/ns/net
};

/// Every network namespace: each one `ip netns add` bind-mounted in /run/netns (by name), then
/// each other one some process is in (/proc/*/ns/net, one per distinct namespace, by pid).
/// Namespaces of processes we may not inspect are missed (reading them takes root).
std::vector<NetworkNamespace> network_namespaces();

/// The sockets of every network_namespaces(), each entry's `netns` set to its namespace's
/// label, namespace after namespace. Needs CAP_SYS_ADMIN: a thread enters each namespace
/// (setns) to open its sock_diag socket there. Netlink only.
net::Result<std::vector<SocketEntry>> list_sockets_all_netns(const SocketQuery& query);

}  // namespace sockit::tools
