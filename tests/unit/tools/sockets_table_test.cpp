#include "tools/sockets_table.hpp"

#include <gtest/gtest.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace sockit::tools {
namespace {

SocketEntry inet(std::string netid, int family, int state, std::string local, std::uint16_t local_port,
                 std::string peer, std::uint16_t peer_port) {
  SocketEntry e;
  e.netid = std::move(netid);
  e.family = family;
  e.state = state;
  e.local_address = std::move(local);
  e.local_port = local_port;
  e.remote_address = std::move(peer);
  e.remote_port = peer_port;
  return e;
}

TEST(SocketTable, ColumnsAreAsWideAsTheirWidestCellAndQueuesAlignRight) {
  auto listener = inet("tcp", AF_INET6, TCP_LISTEN, "::1", 7000, "::", 0);
  listener.send_q = 4096;
  const std::vector<SocketEntry> entries{listener, inet("tcp", AF_INET, TCP_ESTABLISHED, "127.0.0.1", 7000,
                                                        "127.0.0.1", 40000)};
  EXPECT_EQ(format_socket_table(entries, {.numeric = true}),
            "Netid State  Recv-Q Send-Q Local Address:Port Peer Address:Port \n"
            "tcp   LISTEN      0   4096 [::1]:7000         [::]:*            \n"
            "tcp   ESTAB       0      0 127.0.0.1:7000     127.0.0.1:40000   \n");
}

TEST(SocketTable, NetnsColumnComesFirstAndOwnersLast) {
  auto e = inet("udp", AF_INET, TCP_CLOSE, "127.0.0.1", 53, "0.0.0.0", 0);
  e.netns = "blue";
  e.owners = {{42, "dnsd", 3}, {43, "dnsd", 4}};
  EXPECT_EQ(format_socket_table({e}, {.numeric = true, .processes = true, .netns = true}),
            "Netns Netid State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n"
            "blue  udp   UNCONN      0      0 127.0.0.1:53       0.0.0.0:*         "
            "users:((\"dnsd\",pid=42,fd=3),(\"dnsd\",pid=43,fd=4))\n");
}

TEST(SocketTable, UnixSocketsShowPathAndInodes) {
  SocketEntry e;
  e.netid = "u_str";
  e.family = AF_UNIX;
  e.state = TCP_ESTABLISHED;
  e.inode = 11;
  e.remote_inode = 12;
  EXPECT_EQ(format_socket_table({e}, {.numeric = true}),
            "Netid State Recv-Q Send-Q Local Address:Port Peer Address:Port \n"
            "u_str ESTAB      0      0 * 11               * 12              \n");
}

}  // namespace
}  // namespace sockit::tools
