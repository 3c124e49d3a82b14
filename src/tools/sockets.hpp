#pragma once

#include <netinet/tcp.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "net/fd.hpp"
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
  std::string netns;  ///< with list_sockets_all_netns: the namespace's label; else ""
  std::vector<SocketOwner> owners;
  std::optional<TcpInfo> tcp_info;
};

/// A set of states as the kernel's idiag_states takes it: bit `1 << state` for each TCP_* state.
constexpr std::uint32_t state_bit(int state) { return 1u << state; }
constexpr std::uint32_t kAllStates = ~0u;
/// ss's default (no -l/-a): every state but LISTEN, UNCONN (closed), TIME-WAIT and SYN-RECV.
constexpr std::uint32_t kConnectedStates =
    kAllStates & ~(state_bit(TCP_LISTEN) | state_bit(TCP_CLOSE) | state_bit(TCP_TIME_WAIT) | state_bit(TCP_SYN_RECV));
/// ss -l: LISTEN, and UNCONN (an unconnected UDP or Unix socket).
constexpr std::uint32_t kListeningStates = state_bit(TCP_LISTEN) | state_bit(TCP_CLOSE);

struct SocketQuery {
  bool tcp = true;
  bool udp = true;
  bool unix_sockets = true;
  bool tcp_info = false;  ///< netlink only: /proc/net has no TCP_INFO
  std::uint32_t states = kAllStates;  ///< state_bit()s of the states to list
  /// inet_diag bytecode (tools/sockets_filter.hpp) that TCP and UDP sockets must pass; empty:
  /// all pass. The kernel runs it for netlink; list_sockets_proc runs it itself.
  std::vector<std::byte> bytecode{};
};

/// A NETLINK_SOCK_DIAG socket of this thread's network namespace (a netlink socket keeps the
/// namespace it was made in).
net::Result<net::Fd> open_diag_socket();

/// Every socket of the asked kinds in this network namespace, through netlink sock_diag
/// (inet_diag for TCP and UDP over IPv4 and IPv6, unix_diag): IPv4 before IPv6, each in the
/// kernel's order, as ss lists them. Blocks briefly. Fails when netlink is unavailable (use
/// list_sockets_proc then).
net::Result<std::vector<SocketEntry>> list_sockets_netlink(const SocketQuery& query);
/// The same over `diag_socket` (from open_diag_socket), i.e. in the namespace it belongs to.
net::Result<std::vector<SocketEntry>> list_sockets_netlink(int diag_socket, const SocketQuery& query);

/// The same from /proc/net/{tcp,tcp6,udp,udp6,unix} (slower, no TCP_INFO; a listener's
/// Send-Q is 0 there while netlink gives its backlog).
net::Result<std::vector<SocketEntry>> list_sockets_proc(const SocketQuery& query);

/// Netlink, else /proc/net.
net::Result<std::vector<SocketEntry>> list_sockets(const SocketQuery& query);

/// Which processes hold which socket inodes, from every readable /proc/PID/fd (processes we
/// may not inspect are left out, as with ss -p without root). Socket inodes are unique across
/// network namespaces, so one map serves every namespace.
using SocketOwners = std::unordered_map<std::uint64_t, std::vector<SocketOwner>>;
SocketOwners socket_owners();

/// Fills `owners` of each entry from `owners`.
void attach_owners(std::vector<SocketEntry>& entries, const SocketOwners& owners);
/// The same from socket_owners().
void attach_owners(std::vector<SocketEntry>& entries);

/// ss's names for states: "ESTAB", "LISTEN", "TIME-WAIT", "UNCONN" (a closed UDP/Unix socket), ...
std::string_view socket_state_name(int state);
/// The state for a name as ss's state filter takes it: "established", "listening" (or
/// "listen"), "time-wait", "syn-sent", "closed" (or "unconnected"), ... and ss's column names
/// ("ESTAB", "UNCONN"); case-insensitive, "-" or "_" alike; nullopt when unknown.
std::optional<int> parse_socket_state(std::string_view name);
/// ss -l's "listening": LISTEN, or UNCONN (an unconnected UDP or Unix socket).
bool is_listening(const SocketEntry& entry);

}  // namespace sockit::tools
