#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <climits>
#include <cstring>
#include <vector>

#include "net/fd.hpp"
#include "tools/sockets_parse.hpp"

namespace sockit::tools {
namespace {

using net::Result;

std::string ip_text(int family, const __be32* words) {
  char text[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(family, words, text, sizeof text);
  return text;
}

// Sends one dump request and parses every reply datagram into `entries`, until NLMSG_DONE.
template <typename Request>
Result<void> dump(int family_of_request, const Request& request, int protocol, std::vector<SocketEntry>& entries) {
  int fd = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) return net::errno_error("socket(AF_NETLINK, NETLINK_SOCK_DIAG)");
  net::Fd owner(fd);
  struct {
    nlmsghdr header;
    Request body;
  } message{};
  message.header.nlmsg_len = sizeof message;
  message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  message.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  message.header.nlmsg_seq = 1;
  message.body = request;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd, &message, sizeof message, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0)
    return net::errno_error("sendto(netlink sock_diag)", family_of_request == AF_UNIX ? "unix" : "inet");

  std::vector<char> buffer(64 * 1024);
  for (;;) {
    ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return net::errno_error("recv(netlink sock_diag)");
    }
    if (n == 0) return {};
    auto done = parse_diag_datagram(std::as_bytes(std::span(buffer.data(), static_cast<std::size_t>(n))), protocol,
                                    entries);
    if (!done) return done.error();
    if (*done) return {};
  }
}

SocketEntry inet_entry(const nlmsghdr* header, int protocol) {
  const auto* msg = static_cast<const inet_diag_msg*>(NLMSG_DATA(header));
  SocketEntry e;
  e.netid = protocol == IPPROTO_TCP ? "tcp" : "udp";
  e.family = msg->idiag_family;
  e.state = msg->idiag_state;
  e.recv_q = msg->idiag_rqueue;
  e.send_q = msg->idiag_wqueue;
  e.local_address = ip_text(e.family, msg->id.idiag_src);
  e.local_port = ntohs(msg->id.idiag_sport);
  e.remote_address = ip_text(e.family, msg->id.idiag_dst);
  e.remote_port = ntohs(msg->id.idiag_dport);
  e.inode = msg->idiag_inode;
  e.uid = msg->idiag_uid;
  int length = static_cast<int>(header->nlmsg_len - NLMSG_LENGTH(sizeof *msg));
  for (auto* attr = reinterpret_cast<const rtattr*>(msg + 1); RTA_OK(attr, length); attr = RTA_NEXT(attr, length)) {
    if (attr->rta_type != INET_DIAG_INFO) continue;
    tcp_info info{};
    std::memcpy(&info, RTA_DATA(attr), std::min<std::size_t>(RTA_PAYLOAD(attr), sizeof info));
    e.tcp_info = TcpInfo{info.tcpi_rtt / 1000.0, info.tcpi_rttvar / 1000.0, info.tcpi_snd_cwnd,
                         info.tcpi_snd_mss, info.tcpi_retransmits, info.tcpi_total_retrans};
  }
  return e;
}

SocketEntry unix_entry(const nlmsghdr* header) {
  const auto* msg = static_cast<const unix_diag_msg*>(NLMSG_DATA(header));
  SocketEntry e;
  e.netid = msg->udiag_type == SOCK_STREAM ? "u_str" : msg->udiag_type == SOCK_DGRAM ? "u_dgr" : "u_seq";
  e.family = AF_UNIX;
  e.state = msg->udiag_state;
  e.inode = msg->udiag_ino;
  int length = static_cast<int>(header->nlmsg_len - NLMSG_LENGTH(sizeof *msg));
  for (auto* attr = reinterpret_cast<const rtattr*>(msg + 1); RTA_OK(attr, length); attr = RTA_NEXT(attr, length)) {
    const auto* data = static_cast<const char*>(RTA_DATA(attr));
    const auto size = RTA_PAYLOAD(attr);
    switch (attr->rta_type) {
      case UNIX_DIAG_NAME:
        // An abstract name starts with a NUL byte; ss shows it with '@'.
        if (size > 0 && data[0] == '\0') {
          e.local_address.assign(1, '@');
          e.local_address.append(data + 1, size - 1);
        } else {
          e.local_address.assign(data, strnlen(data, size));
        }
        break;
      case UNIX_DIAG_PEER: {
        std::uint32_t peer = 0;
        std::memcpy(&peer, data, std::min<std::size_t>(size, sizeof peer));
        e.remote_inode = peer;
        break;
      }
      case UNIX_DIAG_RQLEN: {
        unix_diag_rqlen q{};
        std::memcpy(&q, data, std::min<std::size_t>(size, sizeof q));
        e.recv_q = q.udiag_rqueue;
        e.send_q = q.udiag_wqueue;
        break;
      }
      default: break;
    }
  }
  return e;
}

}  // namespace

Result<bool> parse_diag_datagram(std::span<const std::byte> datagram, int protocol, std::vector<SocketEntry>& entries) {
  // The NLMSG_* macros read headers in place: they need nlmsghdr's alignment.
  std::vector<std::uint32_t> aligned;
  const void* start = datagram.data();
  if (reinterpret_cast<std::uintptr_t>(start) % alignof(nlmsghdr) != 0) {
    aligned.resize((datagram.size() + 3) / 4);
    std::memcpy(aligned.data(), datagram.data(), datagram.size());
    start = aligned.data();
  }
  const auto* header = static_cast<const nlmsghdr*>(start);
  int left = static_cast<int>(datagram.size());
  for (; NLMSG_OK(header, left); header = NLMSG_NEXT(header, left)) {
    if (header->nlmsg_type == NLMSG_DONE) return true;
    if (header->nlmsg_type == NLMSG_ERROR) {
      int error = EPROTO;  // an error message too short to say which
      if (header->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) {
        std::memcpy(&error, NLMSG_DATA(header), sizeof error);
        error = error < 0 && error != INT_MIN ? -error : EPROTO;
      }
      return net::errno_error("netlink sock_diag dump", {}, error);
    }
    // A message shorter than its fixed part has nothing to read: skip it rather than read past it.
    const auto fixed = protocol == 0 ? sizeof(unix_diag_msg) : sizeof(inet_diag_msg);
    if (header->nlmsg_len < NLMSG_LENGTH(fixed)) continue;
    entries.push_back(protocol == 0 ? unix_entry(header) : inet_entry(header, protocol));
  }
  return false;
}

Result<std::vector<SocketEntry>> list_sockets_netlink(const SocketQuery& query) {
  std::vector<SocketEntry> entries;
  for (int protocol : {IPPROTO_TCP, IPPROTO_UDP}) {
    if ((protocol == IPPROTO_TCP && !query.tcp) || (protocol == IPPROTO_UDP && !query.udp)) continue;
    for (int family : {AF_INET, AF_INET6}) {
      inet_diag_req_v2 request{};
      request.sdiag_family = static_cast<__u8>(family);
      request.sdiag_protocol = static_cast<__u8>(protocol);
      request.idiag_states = ~0u;
      if (query.tcp_info && protocol == IPPROTO_TCP) request.idiag_ext = 1 << (INET_DIAG_INFO - 1);
      auto r = dump(family, request, protocol, entries);
      if (!r) return r.error();
    }
  }
  if (query.unix_sockets) {
    unix_diag_req request{};
    request.sdiag_family = AF_UNIX;
    request.udiag_states = ~0u;
    request.udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN;
    auto r = dump(AF_UNIX, request, 0, entries);
    if (!r) return r.error();
  }
  return entries;
}

}  // namespace sockit::tools
