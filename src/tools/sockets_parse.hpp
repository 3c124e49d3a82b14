#pragma once

// The socket lister's parsers of what the kernel sends, apart from the calls that fetch it, so
// that tests and fuzzers can feed them bytes of their own.
#include <cstddef>
#include <istream>
#include <span>
#include <vector>

#include "net/result.hpp"
#include "tools/sockets.hpp"

namespace sockit::tools {

/// One datagram of a sock_diag dump's replies: an entry per message into `entries` (`protocol`:
/// IPPROTO_TCP or IPPROTO_UDP for inet_diag messages, 0 for unix_diag). True once the dump's
/// NLMSG_DONE came; an NLMSG_ERROR is the error it carries.
net::Result<bool> parse_diag_datagram(std::span<const std::byte> datagram, int protocol,
                                      std::vector<SocketEntry>& entries);

/// The text of /proc/net/tcp, tcp6, udp or udp6 (header line first).
void parse_proc_inet(std::istream& text, const char* netid, int family, std::vector<SocketEntry>& entries);
/// The text of /proc/net/unix (header line first).
void parse_proc_unix(std::istream& text, std::vector<SocketEntry>& entries);

}  // namespace sockit::tools
