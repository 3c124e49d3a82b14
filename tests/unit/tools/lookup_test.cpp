#include "tools/lookup.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>

namespace sockit::tools {
namespace {

TEST(FindService, SshIsPort22OverTcp) {
  auto entries = find_service("ssh");
  ASSERT_FALSE(entries.empty());
  EXPECT_EQ(entries.front().port, 22);
  EXPECT_EQ(entries.front().protocol, "tcp");
}

TEST(FindService, ByNumberFindsTheName) {
  auto entries = find_service("7");
  ASSERT_FALSE(entries.empty());
  EXPECT_EQ(entries.front().name, "echo");
}

TEST(FindService, UnknownIsEmpty) {
  EXPECT_TRUE(find_service("no-such-service").empty());
  EXPECT_TRUE(find_service("70000").empty());
}

TEST(FindService, PortSlashProtocolAsksForThatProtocolOnly) {
  auto entries = find_service("53/udp");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries.front().name, "domain");
  EXPECT_EQ(entries.front().protocol, "udp");
  EXPECT_EQ(entries.front().port, 53);
}

TEST(FindService, NameSlashProtocolAsksForThatProtocolOnly) {
  auto entries = find_service("ssh/tcp");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries.front().name, "ssh");
  EXPECT_EQ(entries.front().protocol, "tcp");
  EXPECT_TRUE(find_service("ssh/").empty());
  EXPECT_TRUE(find_service("/tcp").empty());
}

TEST(FindProtocol, ByNameAndNumber) {
  EXPECT_EQ(find_protocol("udp")->number, 17);
  EXPECT_EQ(find_protocol("6")->name, "tcp");
  EXPECT_FALSE(find_protocol("no-such-protocol"));
}

TEST(Names, DescribeGetaddrinfoResults) {
  EXPECT_EQ(family_name(AF_INET6), "inet6");
  EXPECT_EQ(socktype_name(SOCK_DGRAM), "dgram");
  EXPECT_EQ(protocol_name(6), "tcp");
}

}  // namespace
}  // namespace sockit::tools
