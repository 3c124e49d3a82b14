#include "tools/scan.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <memory>
#include <sstream>
#include <thread>

#include "net/io.hpp"
#include "net/socket.hpp"
#include "tools/scan_probe.hpp"

namespace sockit::tools {
namespace {

using namespace std::chrono_literals;

std::uint16_t port_of(const net::Socket& s) { return s.local_address().value().port(); }

// A loopback port nothing uses: bind port 0, note it, close.
std::uint16_t unused_port(int type) {
  auto s = net::Socket::create(AF_INET, type).value();
  s.bind(net::Address::loopback(AF_INET, 0)).value();
  return port_of(s);
}

ScanOptions options_for(std::vector<std::uint16_t> ports) {
  ScanOptions o;
  o.ports = std::move(ports);
  o.timeout = 300ms;
  o.retries = 0;
  return o;
}

PortState state_of(const ScanReport& report, std::uint16_t port) {
  for (const auto& r : report.ports)
    if (r.port == port) return r.state;
  ADD_FAILURE() << "port " << port << " missing from the report";
  return PortState::filtered;
}

TEST(ParsePorts, ListsAndRangesAreSortedWithoutDuplicates) {
  EXPECT_EQ(parse_ports("80,22,20-23").value(), (std::vector<std::uint16_t>{20, 21, 22, 23, 80}));
}

TEST(ParsePorts, DashAloneAndOpenRangesMeanEveryPort) {
  EXPECT_EQ(parse_ports("-").value().size(), 65535u);
  EXPECT_EQ(parse_ports("65530-").value().size(), 6u);
  EXPECT_EQ(parse_ports("-3").value(), (std::vector<std::uint16_t>{1, 2, 3}));
}

TEST(ParsePorts, ZeroReversedAndJunkAreErrorsNamingThePart) {
  EXPECT_FALSE(parse_ports("0"));
  EXPECT_FALSE(parse_ports("70000"));
  EXPECT_FALSE(parse_ports("100-10"));
  auto r = parse_ports("22,http");
  ASSERT_FALSE(r);
  EXPECT_NE(std::string(r.error().what()).find("http"), std::string::npos);
}

TEST(ParsePorts, EmptyListsAndEmptyPartsAreErrors) {
  EXPECT_FALSE(parse_ports(""));
  EXPECT_FALSE(parse_ports("22,,80"));
  EXPECT_FALSE(parse_ports(","));
}

TEST(NmapTopPorts, MostFrequentFirstThenSortedByPort) {
  std::istringstream services(
      "# nmap-services\n"
      "http\t80/tcp\t0.484143\t# World Wide Web HTTP\n"
      "telnet\t23/tcp\t0.221265\n"
      "domain\t53/udp\t0.213496\n"
      "rare\t7/tcp\t0.000100\n"
      "ssh\t22/tcp\t0.182286\t# Secure Shell Login\n"
      "tie\t9/tcp\t0.000100\n");
  EXPECT_EQ(nmap_top_ports(services, 3, "tcp"), (std::vector<std::uint16_t>{22, 23, 80}));
  services.clear();
  services.seekg(0);
  EXPECT_EQ(nmap_top_ports(services, 4, "tcp"), (std::vector<std::uint16_t>{7, 22, 23, 80}));  // 7 beats 9 on a tie
  services.clear();
  services.seekg(0);
  EXPECT_EQ(nmap_top_ports(services, 10, "udp"), (std::vector<std::uint16_t>{53}));
}

TEST(TopPorts, AreSortedAndHoldSsh) {
  auto top = top_ports(20, "tcp");
  ASSERT_EQ(top.size(), 20u);
  EXPECT_TRUE(std::is_sorted(top.begin(), top.end()));
  EXPECT_NE(std::find(top.begin(), top.end(), 22), top.end());
}

TEST(ServiceName, KnowsWellKnownPorts) {
  EXPECT_EQ(service_name(22, "tcp"), "ssh");
  EXPECT_EQ(service_name(13, "udp"), "daytime");
}

TEST(UdpPayload, EchoGetsTextOthersALineEnd) {
  EXPECT_FALSE(udp_payload(7).empty());
  EXPECT_EQ(udp_payload(13), "\r\n");
}

TEST(TcpScan, ListenerIsOpenAndUnusedPortIsClosed) {
  auto listener = net::listen_on(net::Address::loopback(AF_INET, 0)).value();
  const auto open = port_of(listener);
  const auto closed = unused_port(SOCK_STREAM);
  auto report = scan(net::Address::loopback(AF_INET, 0), ScanProtocol::tcp, options_for({open, closed})).value();
  EXPECT_EQ(state_of(report, open), PortState::open);
  EXPECT_EQ(state_of(report, closed), PortState::closed);
}

TEST(TcpScan, ManyPortsWithFewSlotsStillGetAStateEach) {
  // Ports bound but not listening answer RST; holding them keeps other programs' ports out.
  std::vector<net::Socket> bound;
  auto o = options_for({});
  for (int i = 0; i < 300; ++i) {
    bound.push_back(net::Socket::create(AF_INET, SOCK_STREAM).value());
    bound.back().bind(net::Address::loopback(AF_INET, 0)).value();
    o.ports.push_back(port_of(bound.back()));
  }
  auto listener = net::listen_on(net::Address::loopback(AF_INET, 0)).value();
  o.ports.push_back(port_of(listener));
  o.parallel = 16;
  auto report = scan(net::Address::loopback(AF_INET, 0), ScanProtocol::tcp, o).value();
  ASSERT_EQ(report.ports.size(), o.ports.size());
  for (const auto& r : report.ports)
    EXPECT_EQ(r.state, r.port == port_of(listener) ? PortState::open : PortState::closed) << r.port;
}

TEST(TcpScan, TwoThreadsFindTheSameStatesAsOne) {
  std::vector<net::Socket> bound;
  auto o = options_for({});
  for (int i = 0; i < 200; ++i) {
    bound.push_back(net::Socket::create(AF_INET, SOCK_STREAM).value());
    bound.back().bind(net::Address::loopback(AF_INET, 0)).value();
    o.ports.push_back(port_of(bound.back()));
  }
  auto listener = net::listen_on(net::Address::loopback(AF_INET, 0)).value();
  o.ports.push_back(port_of(listener));
  std::sort(o.ports.begin(), o.ports.end());
  o.threads = 2;
  auto report = scan(net::Address::loopback(AF_INET, 0), ScanProtocol::tcp, o).value();
  ASSERT_EQ(report.ports.size(), o.ports.size());
  EXPECT_FALSE(report.interrupted);
  for (std::size_t i = 0; i < o.ports.size(); ++i) {
    EXPECT_EQ(report.ports[i].port, o.ports[i]);
    EXPECT_EQ(report.ports[i].state, o.ports[i] == port_of(listener) ? PortState::open : PortState::closed);
  }
}

TEST(TcpScan, StopRequestedEndsTheScanWithWhatIsDone) {
  auto o = options_for({unused_port(SOCK_STREAM), unused_port(SOCK_STREAM), unused_port(SOCK_STREAM)});
  o.rate = 10;  // one probe every 100 ms: the stop comes before the last
  const auto start = std::chrono::steady_clock::now();
  o.stop_requested = [start] { return std::chrono::steady_clock::now() - start > 150ms; };
  auto report = scan(net::Address::loopback(AF_INET, 0), ScanProtocol::tcp, o).value();
  EXPECT_TRUE(report.interrupted);
  EXPECT_GE(report.ports.size(), 1u);
  EXPECT_LT(report.ports.size(), 3u);
  EXPECT_LT(report.elapsed.count(), 1.0);
}

TEST(TcpScan, StopRequestedEndsAScanWhoseProbesAreRefusedInsideConnect) {
  // Closed loopback ports are refused at once and never wait in a slot: the stop must still be
  // seen between them, not once the whole range is done.
  std::vector<std::uint16_t> ports;
  for (int i = 0; i < 50; ++i) ports.push_back(unused_port(SOCK_STREAM));
  auto o = options_for(ports);
  auto looks = std::make_shared<std::atomic<int>>(0);
  o.stop_requested = [looks] { return ++*looks > 3; };  // the scan starts, then Ctrl-C
  auto report = scan(net::Address::loopback(AF_INET, 0), ScanProtocol::tcp, o).value();
  EXPECT_TRUE(report.interrupted);
  EXPECT_LT(report.ports.size(), 10u);
}

TEST(TcpScan, EndsWhenEveryProbeWasAnsweredWithoutEpoll) {
  // Probes answered inside connect() never reach epoll; the scan must not wait for them.
  auto o = options_for({unused_port(SOCK_STREAM)});
  o.timeout = 60s;
  const auto start = std::chrono::steady_clock::now();
  auto report = scan(net::Address::loopback(AF_INET, 0), ScanProtocol::tcp, o).value();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  EXPECT_EQ(report.ports.front().state, PortState::closed);
}

TEST(TcpScan, ListenerWithAFullAcceptQueueIsFiltered) {
  // Linux drops SYNs to a listener whose accept queue is full: no answer, like a firewall.
  auto listener = net::listen_on(net::Address::loopback(AF_INET, 0), {.backlog = 0}).value();
  auto queued = net::connect_to(listener.local_address().value(), 1s).value();
  auto report = scan(net::Address::loopback(AF_INET, 0), ScanProtocol::tcp, options_for({port_of(listener)})).value();
  EXPECT_EQ(state_of(report, port_of(listener)), PortState::filtered);
  EXPECT_EQ(report.ports.front().reason, "no-response");
}

TEST(TcpScan, RateLimitSpacesProbes) {
  auto o = options_for({unused_port(SOCK_STREAM), unused_port(SOCK_STREAM), unused_port(SOCK_STREAM)});
  o.rate = 20;  // 3 probes: at least two gaps of 50 ms
  auto report = scan(net::Address::loopback(AF_INET, 0), ScanProtocol::tcp, o).value();
  EXPECT_GE(report.elapsed.count(), 0.09);
}

TEST(UdpScan, ReplyMeansOpenRefusalClosedSilenceOpenFiltered) {
  auto answering = net::bind_datagram(net::Address::loopback(AF_INET, 0)).value();
  auto silent = net::bind_datagram(net::Address::loopback(AF_INET, 0)).value();
  const auto closed = unused_port(SOCK_DGRAM);
  std::thread responder([&] {
    std::byte buffer[512];
    net::Address from;
    auto n = net::recv_from(answering.fd(), buffer, from, net::Deadline::after(5s));
    if (n) (void)net::send_to(answering.fd(), std::span<const std::byte>(buffer, *n), from);
  });
  auto o = options_for({port_of(answering), port_of(silent), closed});
  auto report = scan(net::Address::loopback(AF_INET, 0), ScanProtocol::udp, o).value();
  responder.join();
  EXPECT_EQ(state_of(report, port_of(answering)), PortState::open);
  EXPECT_EQ(state_of(report, port_of(silent)), PortState::open_filtered);
  EXPECT_EQ(state_of(report, closed), PortState::closed);
}

}  // namespace
}  // namespace sockit::tools
