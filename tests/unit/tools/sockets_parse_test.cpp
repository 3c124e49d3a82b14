// The socket lister's parsers on bytes the kernel might send, without netlink or /proc.
#include "tools/sockets_parse.hpp"

#include <gtest/gtest.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <cstring>
#include <sstream>
#include <vector>

namespace sockit::tools {
namespace {

constexpr const char* kTcpHeader =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";

TEST(ParseProcInet, ReadsALine) {
  std::istringstream text(std::string(kTcpHeader) +
                          "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 0 4242\n");
  std::vector<SocketEntry> entries;
  parse_proc_inet(text, "tcp", AF_INET, entries);
  ASSERT_EQ(entries.size(), 1U);
  EXPECT_EQ(entries[0].local_address, "127.0.0.1");
  EXPECT_EQ(entries[0].local_port, 8080);
  EXPECT_EQ(entries[0].state, TCP_LISTEN);
  EXPECT_EQ(entries[0].inode, 4242U);
}

// Found by fuzz/sockets_proc: std::stoul threw on a field that is not hex, and nothing caught it.
TEST(ParseProcInet, SkipsALineWithAFieldThatIsNotHex) {
  std::istringstream text(std::string(kTcpHeader) +
                          "   0: 0100007F:1F90 00000000:0000 ZZ 00000000:00000000 00:00000000 00000000  1000 0 1\n"
                          "   1: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 0 2\n");
  std::vector<SocketEntry> entries;
  EXPECT_NO_THROW(parse_proc_inet(text, "tcp", AF_INET, entries));
  ASSERT_EQ(entries.size(), 1U);
  EXPECT_EQ(entries[0].local_port, 80);
}

TEST(ParseProcUnix, SkipsALineWithAFieldThatIsNotHex) {
  std::istringstream text("Num       RefCount Protocol Flags    Type St Inode Path\n"
                          "0000000000000000: 00000002 00000000 ZZZZZZZZ 0001 01 100 /run/x.sock\n"
                          "0000000000000000: 00000002 00000000 00010000 0001 01 101 /run/y.sock\n");
  std::vector<SocketEntry> entries;
  EXPECT_NO_THROW(parse_proc_unix(text, entries));
  ASSERT_EQ(entries.size(), 1U);
  EXPECT_EQ(entries[0].local_address, "/run/y.sock");
  EXPECT_EQ(entries[0].state, TCP_LISTEN);
}

// Found by fuzz/sockets_netlink: a message shorter than inet_diag_msg was read past its end.
TEST(ParseDiagDatagram, SkipsAMessageShorterThanItsFixedPart) {
  std::vector<std::uint32_t> words(5, 0);  // nlmsghdr and 4 bytes of an inet_diag_msg
  nlmsghdr header{};
  header.nlmsg_len = 20;
  header.nlmsg_type = 20;  // SOCK_DIAG_BY_FAMILY
  std::memcpy(words.data(), &header, sizeof header);
  std::vector<SocketEntry> entries;
  const auto done = parse_diag_datagram(std::as_bytes(std::span(words)), IPPROTO_TCP, entries);
  ASSERT_TRUE(done);
  EXPECT_FALSE(*done);
  EXPECT_TRUE(entries.empty());
}

TEST(ParseDiagDatagram, AnErrorTooShortToSayWhichIsEproto) {
  nlmsghdr header{};
  header.nlmsg_len = sizeof header;
  header.nlmsg_type = NLMSG_ERROR;
  std::vector<SocketEntry> entries;
  const auto done = parse_diag_datagram(std::as_bytes(std::span(&header, 1)), IPPROTO_TCP, entries);
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().code(), std::error_code(EPROTO, std::generic_category()));
}

}  // namespace
}  // namespace sockit::tools
