#include <fmt/core.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "cli/command.hpp"
#include "cli/option_checks.hpp"
#include "cli/stop_on_signals.hpp"
#include "net/address.hpp"
#include "net/text.hpp"
#include "serve/stop_signal.hpp"
#include "tools/fd_limit.hpp"
#include "tools/scan.hpp"
#include "tools/scan_identify.hpp"
#include "tools/scan_resume.hpp"

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
  int threads = static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 4u));
  bool banner = false;
  double banner_timeout = 2.0;
  std::string resume;
};

// Each probe in flight holds a descriptor: stay below the limit.
int usable_parallelism(int wanted) {
  const auto room = static_cast<long long>(tools::raise_descriptor_limit()) - 32;
  return room < wanted ? static_cast<int>(std::max(1LL, room)) : wanted;
}

bool shown(const tools::PortResult& r, bool all) {
  return all || r.state == tools::PortState::open || r.state == tools::PortState::open_filtered;
}

// Every port done so far: the resume file's, then this run's.
std::vector<tools::PortResult> merged(std::vector<tools::PortResult> before, std::vector<tools::PortResult> now) {
  std::map<std::uint16_t, tools::PortResult> ports;
  for (auto& r : before) ports[r.port] = std::move(r);
  for (auto& r : now) ports[r.port] = std::move(r);
  std::vector<tools::PortResult> all;
  for (auto& [port, r] : ports) all.push_back(std::move(r));
  return all;
}

std::string service_of(const tools::PortResult& r, const std::string& proto) {
  return r.identified.empty() ? tools::service_name(r.port, proto) : r.identified;
}

void print_report(const ScanArgs& a, const net::Address& target, const tools::ScanPlan& plan,
                  const std::vector<tools::PortResult>& ports, double elapsed, long long probes, bool complete) {
  const std::string proto(tools::protocol_name(plan.protocol));
  std::map<tools::PortState, int> counts;
  for (const auto& r : ports) ++counts[r.state];
  std::map<std::uint16_t, std::string> names;
  for (const auto& r : ports)
    if (shown(r, a.all)) names[r.port] = service_of(r, proto);
  const std::size_t left = plan.ports.size() - ports.size();
  const auto summary = fmt::format(
      "{}scanned {} of {} in {:.2f} s: {} open, {} closed, {} filtered{}{}", complete ? "" : "INTERRUPTED: ",
      net::counted(ports.size(), proto + " port"), target.host(), elapsed, counts[tools::PortState::open],
      counts[tools::PortState::closed], counts[tools::PortState::filtered],
      a.udp ? fmt::format(", {} open|filtered", counts[tools::PortState::open_filtered]) : "",
      complete ? "" : fmt::format("; {} not scanned yet", net::counted(left, "port")));
  auto text_or_null = [](const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); };

  if (a.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& r : ports) {
      if (!shown(r, a.all)) continue;
      // No name is null (the table says "unknown", as nmap's does).
      nlohmann::json port = {{"port", r.port},     {"protocol", proto},   {"state", tools::state_name(r.state)},
                             {"service", text_or_null(names[r.port])}, {"reason", r.reason}, {"attempts", r.attempts}};
      if (a.banner && r.state == tools::PortState::open) {
        port["banner"] = text_or_null(tools::escape_banner(r.banner));
        port["identified"] = text_or_null(r.identified);
        port["server"] = text_or_null(tools::escape_banner(r.server));
      }
      list.push_back(std::move(port));
    }
    nlohmann::json j = {{"target", target.host()},
                        {"host", a.host},
                        {"protocol", proto},
                        {"complete", complete},
                        {"scanned", ports.size()},
                        {"remaining", left},
                        {"elapsed_s", elapsed},
                        {"probes", probes},
                        {"counts", {{"open", counts[tools::PortState::open]},
                                    {"closed", counts[tools::PortState::closed]},
                                    {"filtered", counts[tools::PortState::filtered]},
                                    {"open|filtered", counts[tools::PortState::open_filtered]}}},
                        {"ports", list}};
    fmt::print("{}\n", j.dump(2));
    return;
  }
  fmt::print("sockit scan report for {} ({})\n", a.host, target.host());
  fmt::print("{:<11} {:<14} {:<16} {:<14}{}\n", "PORT", "STATE", "SERVICE", "REASON", a.banner ? " BANNER" : "");
  for (const auto& r : ports) {
    if (!shown(r, a.all)) continue;
    std::string banner;
    if (a.banner && r.state == tools::PortState::open) {
      banner = " " + tools::escape_banner(r.banner);
      if (!r.server.empty()) banner += " (Server: " + tools::escape_banner(r.server) + ")";
    }
    fmt::print("{:<11} {:<14} {:<16} {:<14}{}\n", fmt::format("{}/{}", r.port, proto), tools::state_name(r.state),
               names[r.port].empty() ? "unknown" : names[r.port], r.reason, banner);
  }
  if (!a.all) {
    const int hidden = counts[tools::PortState::closed] + counts[tools::PortState::filtered];
    if (hidden > 0)
      fmt::print("Not shown: {}\n", net::counted(static_cast<std::size_t>(hidden), "closed or filtered " + proto + " port"));
  }
  fmt::print("{}\n", summary);
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
  options.threads = a.threads;
  options.banner = a.banner && !a.udp;
  options.banner_timeout = std::chrono::milliseconds(static_cast<long>(a.banner_timeout * 1000));

  const int family = a.ipv4 ? AF_INET : a.ipv6 ? AF_INET6 : AF_UNSPEC;
  // No service: the ports are the scan's, and an error must not read "host:0".
  auto targets = net::resolve(a.host, "", {.family = family, .socktype = a.udp ? SOCK_DGRAM : SOCK_STREAM, .flags = 0})
                     .value();
  const auto target = targets.front().address;

  tools::ResumeState state;
  state.plan = {target.host(), protocol, options.ports, options.timeout.count(), options.retries, options.banner,
                options.banner_timeout.count()};
  if (!a.resume.empty()) {
    if (auto loaded = tools::load_resume(a.resume).value()) {
      if (auto conflict = tools::plan_conflict(loaded->plan, state.plan)) {
        fmt::print(stderr, "sockit: scan --resume {}: not the same scan: {}\n", a.resume, *conflict);
        return 2;
      }
      state = std::move(*loaded);
      std::vector<std::uint16_t> left;
      auto done = state.done.begin();  // sorted by port, as options.ports
      for (auto port : options.ports) {
        while (done != state.done.end() && done->port < port) ++done;
        if (done == state.done.end() || done->port != port) left.push_back(port);
      }
      options.ports = std::move(left);
    }
  }

  serve::StopSignal stop;
  StopOnSignals signals(stop);
  options.stop_requested = [&stop] { return stop.requested(); };
  tools::ScanReport report;
  report.target = target;
  report.protocol = protocol;
  if (!options.ports.empty()) report = tools::scan(target, protocol, options).value();

  state.done = merged(std::move(state.done), std::move(report.ports));
  state.elapsed_s += report.elapsed.count();
  state.probes += report.probes_sent;
  const bool complete = state.done.size() == state.plan.ports.size();
  print_report(a, target, state.plan, state.done, state.elapsed_s, state.probes, complete);
  std::fflush(stdout);
  if (complete) {
    if (!a.resume.empty() && ::unlink(a.resume.c_str()) < 0 && errno != ENOENT)
      throw net::errno_error("remove resume file", a.resume);
    return 0;
  }
  const auto left = net::counted(state.plan.ports.size() - state.done.size(), "port");
  if (a.resume.empty()) {
    fmt::print(stderr, "sockit: scan interrupted with {} left (with --resume FILE it could go on later)\n", left);
    return 1;
  }
  tools::save_resume(a.resume, state).value();
  fmt::print(stderr, "sockit: scan interrupted with {} left; the same command goes on from {}\n", left, a.resume);
  return 1;
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
  cmd->add_flag("-u,--udp", a->udp,
                "UDP scan: reply = open, ICMP port unreachable = closed, silence = open|filtered; paced to the "
                "target's ICMP rate limit (see below)");
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
  cmd->add_option("--threads", a->threads, "TCP: scanners side by side, each with its own epoll (default: cores, at most 4)")
      ->transform(checks::whole(1, 64))->capture_default_str();
  cmd->add_flag("--banner", a->banner,
                "TCP: read what each open port says first (or answers to an HTTP HEAD probe), show it escaped, and "
                "name echo, daytime, time, chargen and http as nmap -sV does");
  cmd->add_option("--banner-timeout", a->banner_timeout, "seconds for each open port's banner, connect included")
      ->transform(checks::positive(60))->capture_default_str();
  cmd->add_option("--resume", a->resume,
                  "on SIGINT/SIGTERM, save what is done to FILE; when FILE exists, scan only what it says is left "
                  "(the command must be the same scan); FILE is removed once the scan is complete")
      ->option_text("FILE");
  cmd->add_flag("-a,--all", a->all, "list every port, not only open ones");
  cmd->add_flag("--json", a->json, "print JSON");
  cmd->footer(
      "Scan only hosts you own or are allowed to scan: probing other people's machines may be\n"
      "illegal where you are, and is your responsibility.\n\n"
      "Ctrl-C (SIGINT) or SIGTERM stops the scan and prints the report so far (exit 1); with --resume FILE\n"
      "it also saves what is done to FILE, and the same command later scans only the rest.\n\n"
      "UDP: Linux answers at most 6 closed ports at once, then 1 a second (net.ipv4.icmp_ratelimit).\n"
      "sockit probes in rounds: when some ports answer and others stay silent, it slows to the answer\n"
      "rate it measured and asks the silent ones again; a port is open|filtered only after --retries + 1\n"
      "silent rounds at a pace the target can answer, so closed ports behind a rate limit come out\n"
      "closed, not open|filtered (slower: about 1 s per closed port past the first 6).\n\n"
      "Examples:\n"
      "  sockit scan 127.0.0.1 -p 1-65535\n"
      "  sockit scan localhost -p 22,80,8000-8100 --json\n"
      "  sockit scan 127.0.0.1 -p 10007-10037,8080 --banner\n"
      "  sockit scan 10.0.0.2 -p 1-65535 --resume scan.state    (Ctrl-C, then the same command again)\n"
      "  sockit scan 127.0.0.1 -u -p 10007,10013,10037 --timeout 0.5");
  cmd->callback([a] {
    if (a->ipv4 && a->ipv6) throw CLI::ValidationError("-4/-6", "choose one");
  });
  return {cmd, [a] { return run(*a); }};
}

}  // namespace sockit::cli
