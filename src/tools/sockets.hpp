#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/result.hpp"

namespace sockit::tools {

/// A process holding a socket open.
struct SocketOwner {
  int pid = 0;
  std::string name;  ///< /proc/PID/comm
  int fd = 0;
};

/// The TCP_INFO figures ss -i shows.
struct TcpInfo {
  double rtt_ms = 0;
  double rttvar_ms = 0;
  std::uint32_t cwnd = 0;
  std::uint32_t mss = 0;
  std::uint32_t retransmits = 0;        ///< unanswered retransmissions now
  std::uint32_t total_retransmits = 0;  ///< over the connection's life
};

/// One socket, as ss shows it.
struct SocketEntry {
  std::string netid;  ///< "tcp", "udp", "u_str", "u_dgr", "u_seq"
  int family = 0;     ///< AF_INET, AF_INET6, AF_UNIX
  int state = 0;      ///< TCP_* state numbers (Unix and UDP sockets use them too)
  std::uint32_t recv_q = 0;
  std::uint32_t send_q = 0;
  std::string local_address;   ///< "127.0.0.1", "::", a Unix path, "@abstract" or "" (unnamed)
  std::uint16_t local_port = 0;
  std::string remote_address;  ///< Unix: "" (the peer is remote_inode)
  std::uint16_t remote_port = 0;
  std::uint64_t inode = 0;
  std::uint64_t remote_inode = 0;  ///< Unix only: the peer socket's inode
  std::uint32_t uid = 0;
  std::vector<SocketOwner> owners;
  std::optional<TcpInfo> tcp_info;
};

struct SocketQuery {
  bool tcp = true;
  bool udp = true;
  bool unix_sockets = true;
  bool tcp_info = false;  ///< netlink only: /proc/net has no TCP_INFO
};

/// Every socket of the asked kinds in this network namespace, through netlink sock_diag
/// (inet_diag for TCP and UDP over IPv4 and IPv6, unix_diag), in the kernel's order. Blocks
/// briefly. Fails when netlink is unavailable (use list_sockets_proc then).
net::Result<std::vector<SocketEntry>> list_sockets_netlink(const SocketQuery& query);

/// The same from /proc/net/{tcp,tcp6,udp,udp6,unix} (slower, no TCP_INFO; a listener's
/// Send-Q is 0 there while netlink gives its backlog).
net::Result<std::vector<SocketEntry>> list_sockets_proc(const SocketQuery& query);

/// Netlink, else /proc/net.
net::Result<std::vector<SocketEntry>> list_sockets(const SocketQuery& query);

/// Which processes hold which socket inodes, from every readable /proc/PID/fd (processes we
/// may not inspect are left out, as with ss -p without root).
std::map<std::uint64_t, std::vector<SocketOwner>> socket_owners();

/// Fills `owners` of each entry from socket_owners().
void attach_owners(std::vector<SocketEntry>& entries);

/// ss's names for states: "ESTAB", "LISTEN", "TIME-WAIT", "UNCONN" (a closed UDP/Unix socket), ...
std::string_view socket_state_name(int state);
/// The state for a name as ss --state takes it: "established", "listen", "time-wait",
/// "syn-sent", ... (case-insensitive; "-" or "_" alike); nullopt when unknown.
std::optional<int> parse_socket_state(std::string_view name);
/// ss -l's "listening": LISTEN, or an unconnected UDP or Unix datagram socket.
bool is_listening(const SocketEntry& entry);

}  // namespace sockit::tools
