#include "tools/scan.hpp"

#include <algorithm>
#include <thread>

#include "tools/scan_banner.hpp"
#include "tools/scan_engine.hpp"
#include "tools/scan_pacing.hpp"

namespace sockit::tools {
namespace {

using Clock = std::chrono::steady_clock;
using net::Result;

// TCP: options.threads runs side by side, port i to run i % threads (open and filtered ports,
// the slow ones, tend to cluster), each with its share of the window and the rate.
Result<ProbeRun> probe_tcp(const net::Address& target, const ScanOptions& options) {
  const auto threads = std::min(static_cast<std::size_t>(std::max(1, options.threads)), options.ports.size());
  if (threads <= 1) return run_probes(target, ScanProtocol::tcp, options.ports, options);
  std::vector<std::vector<std::uint16_t>> shares(threads);
  for (std::size_t i = 0; i < options.ports.size(); ++i) shares[i % threads].push_back(options.ports[i]);
  ScanOptions share_options = options;
  share_options.parallel = std::max(1, options.parallel / static_cast<int>(threads));
  share_options.rate = options.rate / static_cast<double>(threads);
  std::vector<std::optional<Result<ProbeRun>>> runs(threads);
  {
    std::vector<std::jthread> workers;
    for (std::size_t t = 0; t < threads; ++t)
      workers.emplace_back([&, t] { runs[t] = run_probes(target, ScanProtocol::tcp, shares[t], share_options); });
  }
  ProbeRun merged;
  for (auto& run : runs) {
    if (!*run) return run->error();
    auto& part = **run;
    merged.probes_sent += part.probes_sent;
    merged.interrupted = merged.interrupted || part.interrupted;
    std::move(part.ports.begin(), part.ports.end(), std::back_inserter(merged.ports));
  }
  std::sort(merged.ports.begin(), merged.ports.end(), [](const auto& a, const auto& b) { return a.port < b.port; });
  return merged;
}

// UDP: rounds of one probe per unsure port, paced as UdpPacer says.
Result<ProbeRun> probe_udp(const net::Address& target, const ScanOptions& options) {
  UdpPacer pacer(options.ports, options.retries, options.rate);
  ProbeRun total;
  while (!pacer.done() && !total.interrupted) {
    ScanOptions round_options = options;
    round_options.retries = 0;
    round_options.rate = pacer.round_rate();
    const auto ports = pacer.next_round();
    const auto start = Clock::now();
    auto round = run_probes(target, ScanProtocol::udp, ports, round_options);
    if (!round) return round.error();
    total.probes_sent += round->probes_sent;
    total.interrupted = round->interrupted;
    const auto shortest = start + std::chrono::duration_cast<Clock::duration>(pacer.shortest_round());
    while (!total.interrupted && Clock::now() < shortest) {
      std::this_thread::sleep_for(std::min<Clock::duration>(shortest - Clock::now(), std::chrono::milliseconds(100)));
      total.interrupted = options.stop_requested && options.stop_requested();
    }
    pacer.record_round(round->ports, Clock::now() - start, round->interrupted);
  }
  total.ports = pacer.results();
  return total;
}

}  // namespace

std::string_view state_name(PortState state) {
  switch (state) {
    case PortState::open: return "open";
    case PortState::closed: return "closed";
    case PortState::filtered: return "filtered";
    case PortState::open_filtered: return "open|filtered";
  }
  return "?";
}

std::string_view protocol_name(ScanProtocol protocol) { return protocol == ScanProtocol::tcp ? "tcp" : "udp"; }

Result<ScanReport> scan(const net::Address& target, ScanProtocol protocol, const ScanOptions& options) {
  const auto start = Clock::now();
  auto run = protocol == ScanProtocol::tcp ? probe_tcp(target, options) : probe_udp(target, options);
  if (!run) return run.error();
  ScanReport report;
  report.target = target;
  report.protocol = protocol;
  report.probes_sent = run->probes_sent;
  report.interrupted = run->interrupted;
  report.ports = std::move(run->ports);
  if (options.banner && protocol == ScanProtocol::tcp && !report.interrupted) {
    auto read = grab_banners(target, report.ports, options);
    if (!read) return read.error();
    const auto open = std::count_if(report.ports.begin(), report.ports.end(),
                                    [](const PortResult& r) { return r.state == PortState::open; });
    if (static_cast<std::size_t>(open) > read->size()) {
      // Interrupted while reading banners: an open port without its banner is not done.
      report.interrupted = true;
      std::sort(read->begin(), read->end());
      std::erase_if(report.ports, [&](const PortResult& r) {
        return r.state == PortState::open && !std::binary_search(read->begin(), read->end(), r.port);
      });
    }
  }
  report.elapsed = Clock::now() - start;
  return report;
}

}  // namespace sockit::tools
