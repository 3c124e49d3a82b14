// The socket lister's sock_diag parser (tools/sockets_parse.hpp) on one reply datagram, seeded
// with datagrams captured from the kernel (seeds/capture_sockets.py) and mutated: the first
// byte names the dump (0 unix_diag, 1 inet_diag TCP, 2 inet_diag UDP), the rest is the datagram.
// Whatever the kernel (or a mutation) sends, the parser reads only the datagram's bytes and
// makes at most one entry per message.
#include <linux/netlink.h>
#include <netinet/in.h>

#include <cstring>

#include "support/check.hpp"
#include "tools/sockets_parse.hpp"

using namespace sockit;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static constexpr int kProtocols[] = {0, IPPROTO_TCP, IPPROTO_UDP};
  const int protocol = kProtocols[data[0] % 3];
  // An exact-size copy with nlmsghdr's alignment, as recv() leaves it: ASan sees any overread.
  const std::size_t length = size - 1;
  auto* datagram = static_cast<std::byte*>(::operator new(length, std::align_val_t{alignof(nlmsghdr)}));
  std::memcpy(datagram, data + 1, length);
  std::vector<tools::SocketEntry> entries;
  const auto done = tools::parse_diag_datagram({datagram, length}, protocol, entries);
  ::operator delete(datagram, std::align_val_t{alignof(nlmsghdr)});
  fuzz::require(entries.size() <= length / NLMSG_HDRLEN, "more entries than messages");
  if (!done) fuzz::require(std::strlen(done.error().what()) > 0, "an error without a message");
  for (const auto& e : entries) {
    fuzz::require(protocol == 0 ? e.family == AF_UNIX : !e.netid.empty(), "an entry of the wrong kind");
    fuzz::require(e.local_address.size() <= length, "an address longer than the datagram");
  }
  return 0;
}
