#include "net/socket.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "net/io.hpp"
#include "net/options.hpp"
#include "test_support.hpp"

namespace sockit::net {
namespace {

using namespace std::chrono_literals;
using sockit::testing::bytes_of;

// A loopback port with nothing listening: bind port 0, note the port, close.
std::uint16_t closed_port(int type) {
  auto s = Socket::create(AF_INET, type).value();
  s.bind(Address::loopback(AF_INET, 0)).value();
  return s.local_address().value().port();
}

TEST(ListenOn, PortZeroPicksAFreePortThatCanBeReadBack) {
  auto listener = listen_on(Address::loopback(AF_INET, 0)).value();
  EXPECT_NE(listener.local_address().value().port(), 0);
}

TEST(ConnectTo, ClosedLoopbackPortIsRefused) {
  // The notes' "TCP answers with RST".
  const auto port = closed_port(SOCK_STREAM);
  auto r = connect_to("127.0.0.1", std::to_string(port), 2s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), std::errc::connection_refused);
  EXPECT_EQ(std::string(r.error().what()),
            "connect to 127.0.0.1:" + std::to_string(port) + " failed: Connection refused");
}

TEST(ConnectTo, ReachesAListenerAndBothSidesKnowTheirAddresses) {
  auto listener = listen_on(Address::loopback(AF_INET, 0)).value();
  const auto port = std::to_string(listener.local_address().value().port());
  auto client = connect_to("localhost", port, 2s, SOCK_STREAM, AF_INET).value();
  Address peer;
  auto server = listener.accept(&peer).value();
  EXPECT_EQ(peer, client.local_address().value());
  EXPECT_EQ(server.peer_address().value(), client.local_address().value());
}

TEST(ConnectTo, TriesTheNextAddressWhenOneFails) {
  // "localhost" may resolve to ::1 first; only IPv4 listens, so the IPv4 entry must be tried.
  auto listener = listen_on(Address::loopback(AF_INET, 0)).value();
  const auto port = std::to_string(listener.local_address().value().port());
  EXPECT_TRUE(connect_to("localhost", port, 2s));
}

TEST(ConnectTo, LocalPortIsTheOneAskedFor) {
  auto listener = listen_on(Address::loopback(AF_INET, 0)).value();
  const auto port = std::to_string(listener.local_address().value().port());
  const auto local = closed_port(SOCK_STREAM);
  auto client = connect_to("127.0.0.1", port, {.timeout = 2s, .local_port = local}).value();
  EXPECT_EQ(client.local_address().value().port(), local);
}

TEST(ConnectTo, NumericRefusesNamesWithoutAskingTheResolver) {
  auto listener = listen_on(Address::loopback(AF_INET, 0)).value();
  const auto port = std::to_string(listener.local_address().value().port());
  EXPECT_TRUE(connect_to("127.0.0.1", port, {.timeout = 2s, .numeric = true}));
  auto by_name = connect_to("localhost", port, {.timeout = 2s, .numeric = true});
  ASSERT_FALSE(by_name);
  EXPECT_NE(std::string(by_name.error().what()).find("getaddrinfo for localhost"), std::string::npos);
}

TEST(ListenOn, DualStackIpv6ListenerAcceptsIpv4Clients) {
  auto listener = listen_on(Address::any(AF_INET6, 0));
  if (!listener) GTEST_SKIP() << "no IPv6 here: " << listener.error().what();
  const auto port = listener->local_address().value().port();
  auto client = connect_to(Address::loopback(AF_INET, port), 2s).value();
  Address peer;
  auto server = listener->accept(&peer).value();
  EXPECT_EQ(peer.family(), AF_INET6);
  EXPECT_EQ(peer.host(), "::ffff:127.0.0.1");
}

TEST(UnixSockets, StreamListenerAndClientTalk) {
  auto path = std::filesystem::temp_directory_path() / ("sockit-test-" + std::to_string(::getpid()) + ".sock");
  std::filesystem::remove(path);
  auto address = Address::unix_path(path.string()).value();
  auto listener = listen_on(address).value();
  auto client = connect_to("unix:" + path.string(), "", 2s).value();
  auto server = listener.accept().value();
  send_all(client.fd(), bytes_of("hi")).value();
  std::byte buffer[2];
  recv_exact(server.fd(), buffer).value();
  EXPECT_EQ(sockit::testing::text_of(buffer), "hi");
  std::filesystem::remove(path);
}

TEST(UnixSockets, DatagramsKeepTheirBoundaries) {
  auto dir = std::filesystem::temp_directory_path();
  auto a_path = dir / ("sockit-a-" + std::to_string(::getpid()) + ".sock");
  auto b_path = dir / ("sockit-b-" + std::to_string(::getpid()) + ".sock");
  std::filesystem::remove(a_path);
  std::filesystem::remove(b_path);
  auto a = bind_datagram(Address::unix_path(a_path.string()).value()).value();
  auto b = bind_datagram(Address::unix_path(b_path.string()).value()).value();
  send_to(a.fd(), bytes_of("one"), b.local_address().value()).value();
  send_to(a.fd(), bytes_of("two!"), b.local_address().value()).value();
  std::byte buffer[16];
  Address from;
  EXPECT_EQ(recv_from(b.fd(), buffer, from, Deadline::after(2s)).value(), 3u);
  EXPECT_EQ(from.host(), a_path.string());
  EXPECT_EQ(recv_from(b.fd(), buffer, from, Deadline::after(2s)).value(), 4u);
  std::filesystem::remove(a_path);
  std::filesystem::remove(b_path);
}

TEST(Udp, ConnectedSocketToClosedPortReportsRefusedOnNextReceive) {
  // The notes' "UDP answers with ICMP": the port-unreachable comes back as ECONNREFUSED.
  const auto port = closed_port(SOCK_DGRAM);
  auto s = connect_to(Address::loopback(AF_INET, port), {}, SOCK_DGRAM).value();
  send_all(s.fd(), bytes_of("time")).value();
  std::byte buffer[64];
  auto r = recv_some(s.fd(), buffer, Deadline::after(2s));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), std::errc::connection_refused);
}

TEST(Udp, BoundSocketAnswersItsSender) {
  auto server = bind_datagram(Address::loopback(AF_INET, 0)).value();
  auto client = connect_to(server.local_address().value(), {}, SOCK_DGRAM).value();
  send_all(client.fd(), bytes_of("ping")).value();
  std::byte buffer[64];
  Address from;
  auto n = recv_from(server.fd(), buffer, from, Deadline::after(2s)).value();
  EXPECT_EQ(n, 4u);
  EXPECT_EQ(from, client.local_address().value());
  send_to(server.fd(), bytes_of("pong"), from).value();
  EXPECT_EQ(recv_some(client.fd(), buffer, Deadline::after(2s)).value(), 4u);
}

// A second socket on a bound UDP port must fail as TCP does, even one that sets both reuse
// options: with SO_REUSEADDR on both (Linux) or SO_REUSEPORT on both, it would share the port
// and take the datagrams.
TEST(Udp, BoundDatagramPortIsExclusive) {
  auto server = bind_datagram(Address::loopback(AF_INET, 0)).value();
  const auto at = server.local_address().value();
  auto second = bind_datagram(at);
  ASSERT_FALSE(second);
  EXPECT_EQ(std::string(second.error().what()), "bind to " + at.to_string() + " failed: Address already in use");

  auto intruder = Socket::create(AF_INET, SOCK_DGRAM).value();
  set_reuse_address(intruder.fd(), true).value();
  set_reuse_port(intruder.fd(), true).value();
  EXPECT_EQ(intruder.bind(at).error().code(), std::errc::address_in_use);
}

// The same for a TCP listener: SO_REUSEADDR (always set) does not let a second listener in, and
// an intruder with SO_REUSEPORT cannot join because listen_on never sets it.
TEST(Socket, ListeningPortIsExclusive) {
  auto listener = listen_on(Address::loopback(AF_INET, 0)).value();
  const auto at = listener.local_address().value();
  EXPECT_EQ(listen_on(at).error().code(), std::errc::address_in_use);

  auto intruder = Socket::create(AF_INET, SOCK_STREAM).value();
  set_reuse_address(intruder.fd(), true).value();
  set_reuse_port(intruder.fd(), true).value();
  EXPECT_EQ(intruder.bind(at).error().code(), std::errc::address_in_use);
}

TEST(Socket, AcceptOnNonBlockingListenerWithNobodyWaitingWouldBlock) {
  auto listener = listen_on(Address::loopback(AF_INET, 0), {.nonblocking = true}).value();
  auto r = listener.accept();
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().would_block());
}

}  // namespace
}  // namespace sockit::net
