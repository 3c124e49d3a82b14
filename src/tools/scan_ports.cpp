#include <arpa/inet.h>
#include <netdb.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

#include "tools/scan.hpp"

namespace sockit::tools {
namespace {

std::optional<int> port_number(std::string_view text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < 1 || value > 65535) return std::nullopt;
  return value;
}

net::Error bad_ports(std::string_view part) {
  return net::Error("parse ports", net::Errc::bad_address, std::string(part),
                    "expected PORT or FIRST-LAST with ports 1-65535");
}

}  // namespace

net::Result<std::vector<std::uint16_t>> parse_ports(std::string_view spec) {
  std::set<std::uint16_t> ports;
  if (spec == "-") spec = "1-65535";
  while (!spec.empty()) {
    const auto comma = spec.find(',');
    const auto part = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view{} : spec.substr(comma + 1);
    const auto dash = part.find('-');
    std::optional<int> first, last;
    if (dash == std::string_view::npos) {
      first = last = port_number(part);
    } else {
      // "-100" and "100-" as nmap: from 1, up to 65535.
      first = dash == 0 ? 1 : port_number(part.substr(0, dash));
      last = dash + 1 == part.size() ? 65535 : port_number(part.substr(dash + 1));
    }
    if (!first || !last || *first > *last) return bad_ports(part);
    for (int p = *first; p <= *last; ++p) ports.insert(static_cast<std::uint16_t>(p));
  }
  if (ports.empty()) return bad_ports(spec);
  return std::vector<std::uint16_t>(ports.begin(), ports.end());
}

std::vector<std::uint16_t> nmap_top_ports(std::istream& services, std::size_t count, std::string_view protocol) {
  std::string suffix = "/";
  suffix += protocol;
  std::vector<std::pair<double, std::uint16_t>> ranked;  // (frequency, port)
  for (std::string line; std::getline(services, line);) {
    std::istringstream fields(line.substr(0, line.find('#')));
    std::string name, port_proto;
    double frequency = 0;
    if (!(fields >> name >> port_proto >> frequency) || !port_proto.ends_with(suffix)) continue;
    if (auto port = port_number(std::string_view(port_proto).substr(0, port_proto.size() - suffix.size())))
      ranked.emplace_back(frequency, static_cast<std::uint16_t>(*port));
  }
  // Most frequent first; equal frequencies lowest port first, so the choice is stable.
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  if (ranked.size() > count) ranked.resize(count);
  std::vector<std::uint16_t> ports;
  for (const auto& [frequency, port] : ranked) ports.push_back(port);
  std::sort(ports.begin(), ports.end());
  return ports;
}

std::vector<std::uint16_t> top_ports(std::size_t count, std::string_view protocol) {
  if (std::ifstream nmap(kNmapServices); nmap) {
    auto ports = nmap_top_ports(nmap, count, protocol);
    if (!ports.empty()) return ports;
  }
  std::set<std::uint16_t> ports;
  std::ifstream services("/etc/services");
  std::string suffix = "/";  // not "/" + string: g++ 12 -O3 warns falsely (-Wrestrict) on that
  suffix += protocol;
  for (std::string line; std::getline(services, line);) {
    std::istringstream fields(line.substr(0, line.find('#')));
    std::string name, port_proto;
    if (!(fields >> name >> port_proto) || !port_proto.ends_with(suffix)) continue;
    if (auto port = port_number(std::string_view(port_proto).substr(0, port_proto.size() - suffix.size())))
      ports.insert(static_cast<std::uint16_t>(*port));
  }
  std::vector<std::uint16_t> lowest(ports.begin(), ports.end());
  if (lowest.size() > count) lowest.resize(count);
  return lowest;
}

std::string service_name(std::uint16_t port, std::string_view protocol) {
  const std::string proto(protocol);
  const servent* entry = ::getservbyport(htons(port), proto.c_str());
  return entry ? entry->s_name : "";
}

}  // namespace sockit::tools
