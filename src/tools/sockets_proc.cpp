#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "tools/sockets_bytecode.hpp"
#include "tools/sockets_parse.hpp"

namespace sockit::tools {
namespace {

using net::Result;

std::uint32_t hex32(std::string_view text) { return static_cast<std::uint32_t>(std::stoul(std::string(text), nullptr, 16)); }

// "0100007F:1F90": the address as the kernel's 32-bit words printed in host order, then the port.
std::pair<std::string, std::uint16_t> hex_endpoint(const std::string& text, int family) {
  const auto colon = text.find(':');
  const std::string address = text.substr(0, colon);
  std::uint32_t words[4] = {};
  for (std::size_t i = 0; i < address.size() / 8 && i < 4; ++i) words[i] = hex32(std::string_view(address).substr(8 * i, 8));
  char out[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(family, words, out, sizeof out);
  return {out, static_cast<std::uint16_t>(hex32(std::string_view(text).substr(colon + 1)))};
}

Result<void> read_inet(const char* path, const char* netid, int family, std::vector<SocketEntry>& entries) {
  std::ifstream file(path);
  if (!file) return net::errno_error("open", path);
  parse_proc_inet(file, netid, family, entries);
  return {};
}

Result<void> read_unix(std::vector<SocketEntry>& entries) {
  std::ifstream file("/proc/net/unix");
  if (!file) return net::errno_error("open", "/proc/net/unix");
  parse_proc_unix(file, entries);
  return {};
}

}  // namespace

void parse_proc_inet(std::istream& file, const char* netid, int family, std::vector<SocketEntry>& entries) {
  std::string line;
  std::getline(file, line);  // header
  while (std::getline(file, line)) {
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode
    std::istringstream fields(line);
    std::string slot, local, remote, state, queues, timer, retransmits;
    std::uint32_t uid = 0, timeout = 0;
    std::uint64_t inode = 0;
    if (!(fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >> inode)) continue;
    SocketEntry e;
    e.netid = netid;
    e.family = family;
    try {  // hex32 throws on a field that is not hex: skip the line like one with too few fields
      e.state = static_cast<int>(hex32(state));
      const auto colon = queues.find(':');
      e.send_q = hex32(queues.substr(0, colon));
      e.recv_q = hex32(queues.substr(colon + 1));
      std::tie(e.local_address, e.local_port) = hex_endpoint(local, family);
      std::tie(e.remote_address, e.remote_port) = hex_endpoint(remote, family);
    } catch (const std::logic_error&) {
      continue;
    }
    e.uid = uid;
    e.inode = inode;
    entries.push_back(std::move(e));
  }
}

void parse_proc_unix(std::istream& file, std::vector<SocketEntry>& entries) {
  std::string line;
  std::getline(file, line);  // Num RefCount Protocol Flags Type St Inode Path
  while (std::getline(file, line)) {
    std::istringstream fields(line);
    std::string num, refs, protocol, flags, type, state;
    std::uint64_t inode = 0;
    if (!(fields >> num >> refs >> protocol >> flags >> type >> state >> inode)) continue;
    std::string path;
    std::getline(fields >> std::ws, path);
    SocketEntry e;
    e.family = AF_UNIX;
    try {  // as above: a line with a field that is not hex is skipped
      const auto kind = hex32(type);
      e.netid = kind == SOCK_STREAM ? "u_str" : kind == SOCK_DGRAM ? "u_dgr" : "u_seq";
      constexpr std::uint32_t kAcceptConnections = 0x10000;  // __SO_ACCEPTCON: a listener
      const auto st = hex32(state);                          // SS_UNCONNECTED 1, SS_CONNECTED 3, ...
      e.state = (hex32(flags) & kAcceptConnections) ? TCP_LISTEN : st == 3 ? TCP_ESTABLISHED
                                                    : st == 2 ? TCP_SYN_SENT : TCP_CLOSE;
    } catch (const std::logic_error&) {
      continue;
    }
    e.local_address = path;
    e.inode = inode;
    entries.push_back(std::move(e));
  }
}

Result<std::vector<SocketEntry>> list_sockets_proc(const SocketQuery& query) {
  std::vector<SocketEntry> entries;
  struct Table {
    const char* path;
    const char* netid;
    int family;
    bool wanted;
  };
  for (const Table& t : {Table{"/proc/net/tcp", "tcp", AF_INET, query.tcp}, Table{"/proc/net/tcp6", "tcp", AF_INET6, query.tcp},
                         Table{"/proc/net/udp", "udp", AF_INET, query.udp}, Table{"/proc/net/udp6", "udp", AF_INET6, query.udp}}) {
    if (!t.wanted) continue;
    if (auto r = read_inet(t.path, t.netid, t.family, entries); !r) {
      if (t.family == AF_INET6) continue;  // a kernel without IPv6 has no tcp6/udp6
      return r.error();
    }
  }
  if (query.unix_sockets)
    if (auto r = read_unix(entries); !r) return r.error();
  // What netlink has the kernel do: the state set, and the bytecode on TCP and UDP sockets.
  std::erase_if(entries, [&](const SocketEntry& e) {
    if (e.state < 0 || e.state >= 32 || (query.states & state_bit(e.state)) == 0) return true;
    return !query.bytecode.empty() && e.family != AF_UNIX && !bytecode_accepts(query.bytecode, e);
  });
  return entries;
}

}  // namespace sockit::tools
