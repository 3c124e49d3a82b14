#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "net/address.hpp"
#include "net/result.hpp"

namespace sockit::tools {

/// What a probe of one port concluded (nmap's words).
enum class PortState {
  open,           ///< TCP: the handshake completed; UDP: a reply came
  closed,         ///< TCP: RST; UDP: ICMP port unreachable (ECONNREFUSED)
  filtered,       ///< TCP: no answer (or ICMP unreachable) after every retry
  open_filtered,  ///< UDP: silence after every retry (open and mute, or dropped)
};
std::string_view state_name(PortState state);

enum class ScanProtocol { tcp, udp };
std::string_view protocol_name(ScanProtocol protocol);

struct PortResult {
  std::uint16_t port = 0;
  PortState state = PortState::filtered;
  std::string reason;  ///< "conn-refused", "syn-ack", "udp-response", "port-unreach", "no-response"
  int attempts = 0;
};

struct ScanOptions {
  std::vector<std::uint16_t> ports;
  std::chrono::milliseconds timeout{1000};  ///< per probe, before a retry
  int retries = 1;                          ///< extra probes for a port that did not answer
  double rate = 0;                          ///< new probes per second at most (0: no limit)
  int parallel = 1000;                      ///< probes in flight at once (each holds a socket)
};

struct ScanReport {
  net::Address target;
  ScanProtocol protocol = ScanProtocol::tcp;
  std::vector<PortResult> ports;  ///< sorted by port
  std::chrono::duration<double> elapsed{};
  int probes_sent = 0;
};

/// Probes every port of `options.ports` on `target` (its port is ignored) with non-blocking
/// sockets watched by one epoll: TCP with connect(), UDP with a datagram on a connected socket
/// (payloads for echo, daytime and time so such services answer). Blocks until every port has
/// a state. Fails only when the scan itself cannot go on (no socket at all, epoll failure).
/// Scanning hosts you do not own may be illegal: that is the caller's responsibility.
net::Result<ScanReport> scan(const net::Address& target, ScanProtocol protocol, const ScanOptions& options);

/// Parses "22", "22,80,8000-8100", "-" (every port), "1-1024"; duplicates removed, sorted.
/// Errors name the bad part.
net::Result<std::vector<std::uint16_t>> parse_ports(std::string_view spec);

/// Where top_ports() looks first: nmap's list of how often each port is found open.
inline constexpr const char* kNmapServices = "/usr/share/nmap/nmap-services";

/// The `count` ports most often open for `protocol` ("tcp" or "udp"): nmap's frequency list
/// (kNmapServices) when it is installed, as nmap --top-ports; else the lowest-numbered ports
/// /etc/services names (which has no frequencies). Sorted by port.
std::vector<std::uint16_t> top_ports(std::size_t count, std::string_view protocol);

/// The `count` most frequent ports for `protocol` in an nmap-services text ("name port/proto
/// frequency # comment" lines), sorted by port; empty when it has none.
std::vector<std::uint16_t> nmap_top_ports(std::istream& services, std::size_t count, std::string_view protocol);

/// The /etc/services name of `port`, or "" when it has none. Not thread-safe (getservbyport).
std::string service_name(std::uint16_t port, std::string_view protocol);

}  // namespace sockit::tools
