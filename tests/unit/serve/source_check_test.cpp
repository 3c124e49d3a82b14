// check_source(): the sources a UDP service never answers, whatever the datagram says.
#include "serve/source_check.hpp"

#include <gtest/gtest.h>

namespace sockit::serve {
namespace {

constexpr std::uint16_t kListener = 7777;

net::Address at(std::string_view text) { return net::Address::parse(text).value(); }

std::optional<Refusal> check(std::string_view source, const SourcePolicy& policy = {}) {
  return check_source(at(source), kListener, policy);
}

TEST(SourceCheck, AnswersAnOrdinaryClient) {
  EXPECT_EQ(check("127.0.0.1:41234"), std::nullopt);
  EXPECT_EQ(check("192.0.2.7:60999"), std::nullopt);
  EXPECT_EQ(check("[::1]:41234"), std::nullopt);
  EXPECT_EQ(check("[2001:db8::7]:50000"), std::nullopt) << "an ephemeral port, even sockit upper's default";
}

TEST(SourceCheck, RefusesPortZero) {
  EXPECT_EQ(check("127.0.0.1:0"), Refusal::port_zero);
  EXPECT_EQ(check("[::1]:0"), Refusal::port_zero);
}

TEST(SourceCheck, RefusesTheListenersOwnPort) {
  EXPECT_EQ(check("127.0.0.1:7777"), Refusal::this_port);
  EXPECT_EQ(check("[::1]:7777"), Refusal::this_port);
  EXPECT_EQ(check("192.0.2.1:7777"), Refusal::this_port) << "a twin server elsewhere loops as surely";
}

TEST(SourceCheck, RefusesAnyUdpPortOfThisServer) {
  const SourcePolicy policy{.own_ports = {7777, 8888}, .broadcasts = {}};
  EXPECT_EQ(check("127.0.0.1:8888", policy), Refusal::own_port);
  EXPECT_EQ(check("127.0.0.1:8889", policy), std::nullopt);
}

TEST(SourceCheck, RefusesTheSmallServicesAndEverySystemPort) {
  for (const std::uint16_t port : {7, 9, 13, 17, 19, 37, 53, 123, 161, 1, 1023})
    EXPECT_EQ(check("192.0.2.1:" + std::to_string(port)), Refusal::reflector_port) << port;
  EXPECT_EQ(check("192.0.2.1:1024"), std::nullopt);
}

TEST(SourceCheck, RefusesKnownReflectorsAboveTheSystemPorts) {
  for (const std::uint16_t port : {1900, 2049, 3702, 5353, 11211, 27015})
    EXPECT_EQ(check("192.0.2.1:" + std::to_string(port)), Refusal::reflector_port) << port;
}

TEST(SourceCheck, RefusesSockitsOwnDefaultUdpPortsOutsideTheEphemeralRange) {
  for (const std::uint16_t port : {10007, 10009, 10013, 10019, 10037, 1060, 5000})
    EXPECT_EQ(check("127.0.0.1:" + std::to_string(port)), Refusal::reflector_port) << port;
  EXPECT_EQ(check("127.0.0.1:9000"), std::nullopt) << "fib is TCP only";
  EXPECT_EQ(check("127.0.0.1:50000"), std::nullopt) << "upper's 50000 is an ephemeral port";
}

TEST(SourceCheck, NamesTheReflectorForTheLog) {
  EXPECT_EQ(reflector_port(19), "chargen");
  EXPECT_EQ(reflector_port(10019), "chargen");
  EXPECT_EQ(reflector_port(11211), "memcached");
  EXPECT_EQ(reflector_port(1000), "a system port");
  EXPECT_EQ(reflector_port(41234), std::nullopt);
}

TEST(SourceCheck, RefusesIpv4BroadcastUnspecifiedAndReserved) {
  EXPECT_EQ(check("255.255.255.255:41234"), Refusal::broadcast_source);
  EXPECT_EQ(check("0.0.0.0:41234"), Refusal::broadcast_source);
  EXPECT_EQ(check("0.1.2.3:41234"), Refusal::broadcast_source);
  EXPECT_EQ(check("240.0.0.1:41234"), Refusal::broadcast_source);
}

TEST(SourceCheck, RefusesTheInterfacesDirectedBroadcasts) {
  const SourcePolicy policy{.own_ports = {}, .broadcasts = {0xc0a801ff}};  // 192.168.1.255
  EXPECT_EQ(check("192.168.1.255:41234", policy), Refusal::broadcast_source);
  EXPECT_EQ(check("192.168.1.254:41234", policy), std::nullopt);
}

TEST(SourceCheck, RefusesMulticastSources) {
  EXPECT_EQ(check("224.0.0.1:41234"), Refusal::multicast_source);
  EXPECT_EQ(check("239.255.255.250:41234"), Refusal::multicast_source);
  EXPECT_EQ(check("[ff02::1]:41234"), Refusal::multicast_source);
}

TEST(SourceCheck, RefusesTheIpv6UnspecifiedAddress) { EXPECT_EQ(check("[::]:41234"), Refusal::broadcast_source); }

TEST(SourceCheck, JudgesIpv4MappedSourcesAsIpv4) {
  EXPECT_EQ(check("[::ffff:224.0.0.1]:41234"), Refusal::multicast_source);
  EXPECT_EQ(check("[::ffff:255.255.255.255]:41234"), Refusal::broadcast_source);
  EXPECT_EQ(check("[::ffff:127.0.0.1]:7777"), Refusal::this_port);
  EXPECT_EQ(check("[::ffff:127.0.0.1]:19"), Refusal::reflector_port);
  EXPECT_EQ(check("[::ffff:127.0.0.1]:0"), Refusal::port_zero);
  EXPECT_EQ(check("[::ffff:127.0.0.1]:41234"), std::nullopt);
}

TEST(SourceCheck, JudgesIpv4CompatibleSourcesAsIpv4) {
  EXPECT_EQ(check("[::224.0.0.1]:41234"), Refusal::multicast_source);
  EXPECT_EQ(check("[::192.0.2.1]:41234"), std::nullopt);
}

}  // namespace
}  // namespace sockit::serve
