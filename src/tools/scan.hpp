#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
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

/// The most a banner keeps: its first line, cut at this many bytes.
inline constexpr std::size_t kBannerMax = 256;

struct PortResult {
  std::uint16_t port = 0;
  PortState state = PortState::filtered;
  std::string reason;  ///< "conn-refused", "syn-ack", "udp-response", "port-unreach", "no-response"
  int attempts = 0;
  // With ScanOptions::banner, for open TCP ports:
  std::string banner;      ///< the first bytes the port sent (the first line, at most kBannerMax bytes)
  std::string identified;  ///< the service the banner shows: "echo", "daytime", "time", "chargen", "http"; "" unknown
  std::string server;      ///< http: the Server header's value
};

struct ScanOptions {
  std::vector<std::uint16_t> ports;
  std::chrono::milliseconds timeout{1000};  ///< per probe, before a retry
  int retries = 1;                          ///< extra probes for a port that did not answer
  double rate = 0;                          ///< new probes per second at most (0: no limit)
  int parallel = 1000;                      ///< probes in flight at once (each holds a socket)
  /// TCP: scanners side by side, each on its own thread with its own epoll, an interleaved
  /// share of the ports and of `parallel` and `rate`.
  int threads = 1;
  bool banner = false;  ///< TCP: read what open ports say (or answer to a probe), name the service
  std::chrono::milliseconds banner_timeout{2000};  ///< per open port, connect included
  /// Asked at least every 100 ms, from the scanning threads (so it must be thread-safe); true:
  /// stop now and report the ports that have a state (ScanReport::interrupted).
  std::function<bool()> stop_requested;
};

struct ScanReport {
  net::Address target;
  ScanProtocol protocol = ScanProtocol::tcp;
  std::vector<PortResult> ports;  ///< sorted by port; when interrupted, only the ports that are done
  std::chrono::duration<double> elapsed{};
  int probes_sent = 0;
  bool interrupted = false;
};

/// Probes every port of `options.ports` on `target` (its port is ignored) with non-blocking
/// sockets watched by epoll: TCP with connect() on options.threads threads, UDP with a datagram
/// on a connected socket (payloads for echo, daytime and time so such services answer), in
/// rounds paced to the ICMP answers the target gives (UdpPacer). With options.banner, open TCP
/// ports are then read concurrently. Blocks until every port has a state or stop_requested.
/// A port is done when it has a state (and, with banner, its banner was read). Fails only when
/// the scan itself cannot go on (no socket at all, epoll failure).
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
