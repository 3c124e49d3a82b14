#include <fmt/core.h>
#include <sys/socket.h>

#include <algorithm>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/command.hpp"
#include "cli/option_checks.hpp"
#include "net/address.hpp"
#include "net/text.hpp"
#include "tools/fd_limit.hpp"
#include "tools/scan.hpp"

namespace sockit::cli {
namespace {

struct ScanArgs {
  std::string host;
  std::string ports;
  std::size_t top = 0;
  bool udp = false, ipv4 = false, ipv6 = false, all = false, json = false;
  double timeout = 1.0;
  double rate = 0;
  int retries = 1;
  int parallel = 1000;
};

// Each probe in flight holds a descriptor: stay below the limit.
int usable_parallelism(int wanted) {
  const auto room = static_cast<long long>(tools::raise_descriptor_limit()) - 32;
  return room < wanted ? static_cast<int>(std::max(1LL, room)) : wanted;
}

bool shown(const tools::PortResult& r, bool all) {
  return all || r.state == tools::PortState::open || r.state == tools::PortState::open_filtered;
}

int run(const ScanArgs& a) {
  const auto protocol = a.udp ? tools::ScanProtocol::udp : tools::ScanProtocol::tcp;
  const std::string proto(tools::protocol_name(protocol));
  tools::ScanOptions options;
  if (!a.ports.empty()) {
    options.ports = tools::parse_ports(a.ports).value();  // checked by the option's validator
  } else {
    options.ports = tools::top_ports(a.top > 0 ? a.top : 1000, proto);
  }
  options.timeout = std::chrono::milliseconds(static_cast<long>(a.timeout * 1000));
  options.retries = a.retries;
  options.rate = a.rate;
  options.parallel = usable_parallelism(a.parallel);

  const int family = a.ipv4 ? AF_INET : a.ipv6 ? AF_INET6 : AF_UNSPEC;
  // No service: the ports are the scan's, and an error must not read "host:0".
  auto targets = net::resolve(a.host, "", {.family = family, .socktype = a.udp ? SOCK_DGRAM : SOCK_STREAM, .flags = 0})
                     .value();
  const auto target = targets.front().address;
  const auto report = tools::scan(target, protocol, options).value();

  std::map<tools::PortState, int> counts;
  for (const auto& r : report.ports) ++counts[r.state];
  std::map<std::uint16_t, std::string> names;
  for (const auto& r : report.ports)
    if (shown(r, a.all)) names[r.port] = tools::service_name(r.port, proto);
  const auto summary = fmt::format("scanned {} of {} in {:.2f} s: {} open, {} closed, {} filtered{}",
                                   net::counted(report.ports.size(), proto + " port"), target.host(), report.elapsed.count(),
                                   counts[tools::PortState::open], counts[tools::PortState::closed],
                                   counts[tools::PortState::filtered],
                                   a.udp ? fmt::format(", {} open|filtered", counts[tools::PortState::open_filtered]) : "");

  if (a.json) {
    nlohmann::json ports = nlohmann::json::array();
    for (const auto& r : report.ports)
      if (shown(r, a.all))
        ports.push_back({{"port", r.port}, {"protocol", proto}, {"state", tools::state_name(r.state)},
                         // No name is null (the table says "unknown", as nmap's does).
                         {"service", names[r.port].empty() ? nlohmann::json(nullptr) : nlohmann::json(names[r.port])},
                         {"reason", r.reason},
                         {"attempts", r.attempts}});
    nlohmann::json j = {{"target", target.host()},
                        {"host", a.host},
                        {"protocol", proto},
                        {"scanned", report.ports.size()},
                        {"elapsed_s", report.elapsed.count()},
                        {"probes", report.probes_sent},
                        {"counts", {{"open", counts[tools::PortState::open]},
                                    {"closed", counts[tools::PortState::closed]},
                                    {"filtered", counts[tools::PortState::filtered]},
                                    {"open|filtered", counts[tools::PortState::open_filtered]}}},
                        {"ports", ports}};
    fmt::print("{}\n", j.dump(2));
    return 0;
  }
  fmt::print("sockit scan report for {} ({})\n", a.host, target.host());
  fmt::print("{:<11} {:<14} {:<16} {}\n", "PORT", "STATE", "SERVICE", "REASON");
  for (const auto& r : report.ports)
    if (shown(r, a.all))
      fmt::print("{:<11} {:<14} {:<16} {}\n", fmt::format("{}/{}", r.port, proto), tools::state_name(r.state),
                 names[r.port].empty() ? "unknown" : names[r.port], r.reason);
  if (!a.all) {
    const int hidden = counts[tools::PortState::closed] + counts[tools::PortState::filtered];
    if (hidden > 0)
      fmt::print("Not shown: {}\n", net::counted(static_cast<std::size_t>(hidden), "closed or filtered " + proto + " port"));
  }
  fmt::print("{}\n", summary);
  return 0;
}

}  // namespace

Command add_scan(CLI::App& app) {
  auto a = std::make_shared<ScanArgs>();
  auto* cmd = app.add_subcommand("scan", "Port scanner: TCP connect scan or UDP scan, many probes in flight (epoll)");
  cmd->add_option("host", a->host, "host to scan (name or address)")->required()->check(checks::host());
  auto* ports = cmd->add_option("-p,--ports", a->ports, "ports: 22 | 22,80,8000-8100 | 1-65535 | - (all)")
                    ->check(CLI::Validator(
                        [](std::string& text) {
                          auto ports = tools::parse_ports(text);
                          return ports ? std::string() : fmt::format("'{}': {}", text, ports.error().detail());
                        },
                        ""));
  cmd->add_option("--top", a->top,
                  "the N ports most often open by nmap's list (/usr/share/nmap/nmap-services), or without nmap "
                  "the N lowest-numbered ports /etc/services names (default: 1000)")
      ->excludes(ports)
      ->transform(checks::whole<std::size_t>(1, 65535));
  cmd->add_flag("-u,--udp", a->udp, "UDP scan: reply = open, ICMP port unreachable = closed, silence = open|filtered");
  cmd->add_flag("-4", a->ipv4, "IPv4 address of HOST");
  cmd->add_flag("-6", a->ipv6, "IPv6 address of HOST");
  cmd->add_option("--timeout", a->timeout, "seconds to wait for each probe's answer")
      ->transform(checks::positive(3600))->capture_default_str();
  cmd->add_option("--retries", a->retries, "extra probes for a port that did not answer")
      ->transform(checks::whole(0, 10))->capture_default_str();
  cmd->add_option("--rate", a->rate, "at most this many new probes per second (0: no limit)")
      ->transform(checks::between(0, 1e9))->capture_default_str();
  cmd->add_option("--parallel", a->parallel, "probes in flight at once")
      ->transform(checks::whole(1, 100000))->capture_default_str();
  cmd->add_flag("-a,--all", a->all, "list every port, not only open ones");
  cmd->add_flag("--json", a->json, "print JSON");
  cmd->footer(
      "Scan only hosts you own or are allowed to scan: probing other people's machines may be\n"
      "illegal where you are, and is your responsibility.\n\n"
      "Examples:\n"
      "  sockit scan 127.0.0.1 -p 1-65535\n"
      "  sockit scan localhost -p 22,80,8000-8100 --json\n"
      "  sockit scan 127.0.0.1 -u -p 10007,10013,10037 --timeout 0.5");
  cmd->callback([a] {
    if (a->ipv4 && a->ipv6) throw CLI::ValidationError("-4/-6", "choose one");
  });
  return {cmd, [a] { return run(*a); }};
}

}  // namespace sockit::cli
