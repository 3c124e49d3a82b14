// Sources a UDP service never answers. A reply goes to whatever address and port the datagram
// claims to come from, and UDP checks neither: one spoofed datagram from the echo port to the
// echo port makes a server answer itself forever, one from chargen to echo starts the endless
// ping-pong of CVE-1999-0103 (CERT CA-1996-01), and any service that answers garbage (DNS with
// FORMERR, memcached with ERROR) does the same with our echo. openbsd-inetd's dg_badinput()
// refuses sources below port 1024 and NFS, broadcast, multicast and 0/8; this adds the other
// known reflectors, this server's own ports, and sockit's default ports.
#include "serve/source_check.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>
#include <memory>

#include "serve/services/services.hpp"

namespace sockit::serve {
namespace {

constexpr std::uint16_t kFirstUnprivileged = 1024;  // IPPORT_RESERVED
constexpr std::uint16_t kFirstEphemeral = 32768;    // Linux's ip_local_port_range starts here

struct NamedPort {
  std::uint16_t port;
  std::string_view name;
};

// Below 1024 every port is refused; these names only make the log line say which service it is.
// Above: UDP services that answer a stray datagram (so echo would loop with them) or that have
// been used for amplification (US-CERT TA14-017A and its updates; Rossow, "Amplification Hell").
constexpr NamedPort kReflectors[] = {
    {7, "echo"},          {9, "discard"},           {13, "daytime"},          {17, "qotd"},
    {19, "chargen"},      {37, "time"},             {53, "domain"},           {69, "tftp"},
    {111, "sunrpc"},      {123, "ntp"},             {137, "netbios-ns"},      {138, "netbios-dgm"},
    {161, "snmp"},        {162, "snmptrap"},        {389, "cldap"},           {427, "svrloc"},
    {443, "dtls"},        {500, "isakmp"},          {520, "rip"},             {623, "ipmi"},
    {1434, "ms-sql-m"},   {1604, "citrix-ica"},     {1900, "ssdp"},           {2049, "nfs"},
    {3283, "apple-ard"},  {3478, "stun"},           {3702, "ws-discovery"},   {5351, "nat-pmp"},
    {5353, "mdns"},       {5683, "coap"},           {6881, "bittorrent-dht"}, {10001, "ubiquiti-discovery"},
    {11211, "memcached"}, {26000, "quake"},         {27015, "steam"},         {27960, "quake3"},
};

// sockit's default UDP ports (10007, 10019, 1060 ...): two sockit servers on their defaults loop
// as inetd's echo and chargen do. Default ports in the ephemeral range (upper's 50000) are left
// out, as the header says.
std::optional<std::string_view> sockit_default_port(std::uint16_t port) {
  for (const auto& info : services::catalog())
    if (info.udp && info.port == port && port < kFirstEphemeral) return info.name;
  return std::nullopt;
}

std::optional<Refusal> check_v4(std::uint32_t a, const SourcePolicy& policy) {
  if ((a >> 28) == 0xE) return Refusal::multicast_source;  // 224.0.0.0/4
  // 0.0.0.0/8 "this network" (with the unspecified address) and 240.0.0.0/4 (reserved, with
  // 255.255.255.255) are never a sender's address.
  if ((a >> 24) == 0 || (a >> 28) == 0xF) return Refusal::broadcast_source;
  if (std::find(policy.broadcasts.begin(), policy.broadcasts.end(), a) != policy.broadcasts.end())
    return Refusal::broadcast_source;
  return std::nullopt;
}

std::uint32_t v4_of(const std::uint8_t* bytes) {
  return (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) | (std::uint32_t{bytes[2]} << 8) |
         std::uint32_t{bytes[3]};
}

std::optional<Refusal> check_address(const net::Address& source, const SourcePolicy& policy) {
  if (source.family() == AF_INET) {
    const auto& v4 = *reinterpret_cast<const sockaddr_in*>(source.get());
    return check_v4(ntohl(v4.sin_addr.s_addr), policy);
  }
  if (source.family() != AF_INET6) return std::nullopt;
  const auto& a = reinterpret_cast<const sockaddr_in6*>(source.get())->sin6_addr;
  if (IN6_IS_ADDR_MULTICAST(&a)) return Refusal::multicast_source;
  if (IN6_IS_ADDR_UNSPECIFIED(&a)) return Refusal::broadcast_source;
  // IPv4-compatible (::a.b.c.d, deprecated by RFC 4291) carries an IPv4 address as dg_badinput
  // sees it; mapped ones were unmapped by the caller.
  if (IN6_IS_ADDR_V4COMPAT(&a)) return check_v4(v4_of(&a.s6_addr[12]), policy);
  return std::nullopt;
}

}  // namespace

std::optional<std::string_view> reflector_port(std::uint16_t port) {
  for (const auto& r : kReflectors)
    if (r.port == port) return r.name;
  if (auto name = sockit_default_port(port)) return name;
  if (port < kFirstUnprivileged) return "a system port";
  return std::nullopt;
}

std::optional<Refusal> check_source(const net::Address& raw_source, std::uint16_t listener_port,
                                    const SourcePolicy& policy) {
  const net::Address source = raw_source.unmapped();
  const std::uint16_t port = source.port();
  if (port == 0) return Refusal::port_zero;
  if (auto reason = check_address(source, policy)) return reason;
  if (port == listener_port) return Refusal::this_port;
  if (std::find(policy.own_ports.begin(), policy.own_ports.end(), port) != policy.own_ports.end())
    return Refusal::own_port;
  if (reflector_port(port)) return Refusal::reflector_port;
  return std::nullopt;
}

std::vector<std::uint32_t> interface_broadcasts() {
  std::vector<std::uint32_t> found;
  ifaddrs* raw = nullptr;
  if (::getifaddrs(&raw) != 0) return found;
  const std::unique_ptr<ifaddrs, decltype(&::freeifaddrs)> list(raw, &::freeifaddrs);
  for (const ifaddrs* i = list.get(); i; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_BROADCAST) || !i->ifa_broadaddr)
      continue;
    found.push_back(ntohl(reinterpret_cast<const sockaddr_in*>(i->ifa_broadaddr)->sin_addr.s_addr));
  }
  return found;
}

}  // namespace sockit::serve
