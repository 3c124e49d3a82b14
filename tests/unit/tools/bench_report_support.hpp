#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "net/address.hpp"
#include "tools/bench_report.hpp"
#include "tools/bench_workload.hpp"

namespace sockit::tools {

/// A run as a test describes it: the latencies it measured and where and when it ran.
struct FakeRun {
  std::vector<std::uint64_t> latencies_ns;
  std::string host = "load-1";
  std::string address = "10.77.0.2";
  std::int64_t start_ns = 1'800'000'000'000'000'000;  // 2027-01-15
  std::int64_t window_ns = 2'000'000'000;
  WorkloadOptions workload{.workload = Workload::echo};
  std::string target = "10.77.0.1:10007";
  double rate = 0;
  unsigned conns = 10;
  std::uint64_t timeouts = 0;
};

/// The report `sockit bench` makes of such a run (report_of on a configuration and result).
inline BenchReport fake_report(const FakeRun& run) {
  BenchConfig config;
  config.target = net::Address::parse(run.target).value();
  config.workload = run.workload;
  config.exchange = make_exchange(run.workload);
  config.conns = run.conns;
  config.rate = run.rate;
  BenchResult result;
  auto& c = result.counters;
  for (const auto ns : run.latencies_ns) c.latency_ns.record(ns);
  c.requests = run.latencies_ns.size();
  c.bytes_sent = c.requests * config.exchange.request.size();
  c.bytes_received = c.bytes_sent;
  c.errors[static_cast<std::size_t>(ErrorKind::timeout)] = run.timeouts;
  result.window = std::chrono::nanoseconds(run.window_ns);
  result.cpu_window = result.window;
  result.client_cpu.user = std::chrono::milliseconds(300);
  result.window_start = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::nanoseconds(run.start_ns)));
  return report_of(config, result, run.target, LoadHost{run.host, run.address});
}

}  // namespace sockit::tools
