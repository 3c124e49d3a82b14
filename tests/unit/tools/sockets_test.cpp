#include "tools/sockets.hpp"

#include <gtest/gtest.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>

#include "net/socket.hpp"

namespace sockit::tools {
namespace {

using namespace std::chrono_literals;

const SocketEntry* find_tcp(const std::vector<SocketEntry>& entries, std::uint16_t local, std::uint16_t remote = 0) {
  for (const auto& e : entries)
    if (e.netid == "tcp" && e.local_port == local && e.remote_port == remote) return &e;
  return nullptr;
}

TEST(ListSocketsNetlink, ShowsOurListenerWithItsAddressAndState) {
  auto listener = net::listen_on(net::Address::loopback(AF_INET, 0)).value();
  const auto port = listener.local_address().value().port();
  auto entries = list_sockets_netlink({.tcp = true, .udp = false, .unix_sockets = false}).value();
  const auto* e = find_tcp(entries, port);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->state, TCP_LISTEN);
  EXPECT_EQ(e->local_address, "127.0.0.1");
  EXPECT_TRUE(is_listening(*e));
}

TEST(ListSocketsProc, AgreesWithNetlinkOnAConnection) {
  auto listener = net::listen_on(net::Address::loopback(AF_INET6, 0)).value();
  auto client = net::connect_to(listener.local_address().value(), 1s).value();
  auto server = listener.accept().value();
  const auto server_port = listener.local_address().value().port();
  const auto client_port = client.local_address().value().port();
  const SocketQuery tcp_only{.tcp = true, .udp = false, .unix_sockets = false};
  for (auto entries : {list_sockets_netlink(tcp_only).value(), list_sockets_proc(tcp_only).value()}) {
    const auto* e = find_tcp(entries, client_port, server_port);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->state, TCP_ESTABLISHED);
    EXPECT_EQ(e->family, AF_INET6);
    EXPECT_EQ(e->remote_address, "::1");
    EXPECT_FALSE(is_listening(*e));
  }
}

TEST(ListSocketsNetlink, TcpInfoOnRequestHasRttAndCwnd) {
  auto listener = net::listen_on(net::Address::loopback(AF_INET, 0)).value();
  auto client = net::connect_to(listener.local_address().value(), 1s).value();
  auto entries = list_sockets_netlink({.tcp = true, .udp = false, .unix_sockets = false, .tcp_info = true}).value();
  const auto* e = find_tcp(entries, client.local_address().value().port(), listener.local_address().value().port());
  ASSERT_NE(e, nullptr);
  ASSERT_TRUE(e->tcp_info);
  EXPECT_GT(e->tcp_info->cwnd, 0u);
  EXPECT_GT(e->tcp_info->rtt_ms, 0.0);
}

TEST(ListSockets, UdpAndUnixListenersAreListedBothWays) {
  auto udp = net::bind_datagram(net::Address::loopback(AF_INET, 0)).value();
  const auto path = std::filesystem::temp_directory_path() / ("sockit-sockets-" + std::to_string(::getpid()));
  std::filesystem::remove(path);
  auto unix_listener = net::listen_on(net::Address::unix_path(path.string()).value()).value();
  const auto udp_port = udp.local_address().value().port();
  for (auto entries : {list_sockets_netlink({}).value(), list_sockets_proc({}).value()}) {
    bool saw_udp = false, saw_unix = false;
    for (const auto& e : entries) {
      if (e.netid == "udp" && e.local_port == udp_port) saw_udp = is_listening(e) && socket_state_name(e.state) == "UNCONN";
      if (e.netid == "u_str" && e.local_address == path.string()) saw_unix = e.state == TCP_LISTEN;
    }
    EXPECT_TRUE(saw_udp);
    EXPECT_TRUE(saw_unix);
  }
  unix_listener.close();
  std::filesystem::remove(path);
}

TEST(SocketOwners, FindsThisProcessHoldingItsSocket) {
  auto listener = net::listen_on(net::Address::loopback(AF_INET, 0)).value();
  auto entries = list_sockets({.tcp = true, .udp = false, .unix_sockets = false}).value();
  attach_owners(entries);
  const auto* e = find_tcp(entries, listener.local_address().value().port());
  ASSERT_NE(e, nullptr);
  ASSERT_EQ(e->owners.size(), 1u);
  EXPECT_EQ(e->owners[0].pid, ::getpid());
  EXPECT_EQ(e->owners[0].fd, listener.fd());
}

TEST(SocketStates, NamesRoundTripLikeSs) {
  EXPECT_EQ(socket_state_name(TCP_ESTABLISHED), "ESTAB");
  EXPECT_EQ(socket_state_name(TCP_TIME_WAIT), "TIME-WAIT");
  EXPECT_EQ(parse_socket_state("established"), TCP_ESTABLISHED);
  EXPECT_EQ(parse_socket_state("TIME_WAIT"), TCP_TIME_WAIT);
  EXPECT_EQ(parse_socket_state("listen"), TCP_LISTEN);
  EXPECT_FALSE(parse_socket_state("sleepy"));
}

}  // namespace
}  // namespace sockit::tools
