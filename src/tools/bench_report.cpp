#include "tools/bench_report.hpp"

#include <fmt/core.h>
#include <limits.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <optional>

#include "net/socket.hpp"
#include "tools/scan_identify.hpp"

namespace sockit::tools {
namespace {

double seconds_of(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

std::string_view transport_name(const BenchConfig& config) {
  if (config.target.family() == AF_UNIX) return "unix";
  return config.exchange.udp ? "udp" : "tcp";
}

nlohmann::json workload_options_of(const BenchConfig& config) {
  const WorkloadOptions& w = config.workload;
  switch (w.workload) {
    case Workload::echo:
    case Workload::connect:
    case Workload::stream: return {{"size", config.exchange.request.size()}};
    case Workload::fib: return {{"n", w.fib_n}};
    case Workload::raw:
      // escape_banner() writes what decode_escapes() reads back (\xNN for the other bytes).
      return {{"send", escape_banner(w.send)},
              {"expect", w.expect.empty() ? nlohmann::json(nullptr) : nlohmann::json(escape_banner(w.expect))},
              {"expect_bytes", w.expect.empty() ? nlohmann::json(w.expect_bytes) : nlohmann::json(nullptr)}};
    case Workload::http: return {{"method", w.method}};
    case Workload::time:
    case Workload::daytime: break;
  }
  return nlohmann::json::object();
}

LoadHost load_host(const net::Address& target, std::string name) {
  LoadHost host{std::move(name), ""};
  if (host.name.empty()) {
    char buffer[HOST_NAME_MAX + 1] = {};
    host.name = ::gethostname(buffer, sizeof buffer - 1) == 0 ? buffer : "unknown";
  }
  if (!target.is_ip()) return host;
  // connect() on a UDP socket only picks the route and the source address: nothing is sent.
  if (auto probe = net::Socket::create(target.family(), SOCK_DGRAM))
    if (probe->connect(target))
      if (auto local = probe->local_address()) host.address = local->host();
  return host;
}

BenchReport report_of(const BenchConfig& config, const BenchResult& result, std::string target,
                      const LoadHost& host) {
  BenchReport r;
  r.workload = workload_name(config.workload.workload);
  r.workload_options = workload_options_of(config);
  r.transport = transport_name(config);
  r.target = std::move(target);
  r.counters = result.counters;
  r.http = config.exchange.expect.mode == Expectation::Mode::http;
  r.seconds = seconds_of(result.window);
  r.overlap_seconds = r.seconds;
  r.client_cpu_seconds = seconds_of(result.client_cpu.total());
  r.client_cpu_window = result.cpu_window.count() > 0 ? seconds_of(result.cpu_window) : r.seconds;
  if (result.server_cpu)
    r.server_cpu = ServerCpu{*config.server_pid, seconds_of(result.server_cpu->user),
                             seconds_of(result.server_cpu->system)};

  RunSummary run;
  run.host = host;
  run.conns = config.conns;
  run.threads = config.threads;
  run.pipeline = config.pipeline;
  run.rate = config.rate;
  run.window.start_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(result.window_start.time_since_epoch()).count();
  run.window.end_ns = run.window.start_ns + result.window.count();
  const auto& c = result.counters;
  run.requests = c.requests;
  run.errors = c.error_total();
  run.bytes_sent = c.bytes_sent;
  run.bytes_received = c.bytes_received;
  run.p50_ns = c.latency_ns.percentile(50);
  run.p99_ns = c.latency_ns.percentile(99);
  run.max_ns = c.latency_ns.max();
  r.runs.push_back(std::move(run));
  return r;
}

BenchFigures figures_of(const BenchReport& report) {
  BenchFigures f;
  const auto& c = report.counters;
  if (report.seconds > 0) {
    f.requests_per_s = static_cast<double>(c.requests) / report.seconds;
    f.bytes_per_s = static_cast<double>(c.bytes_received) / report.seconds;
    f.body_bytes_per_s = static_cast<double>(c.http.body_bytes) / report.seconds;
  }
  if (report.client_cpu_window > 0) {
    f.client_cpu_percent = 100.0 * report.client_cpu_seconds / report.client_cpu_window;
    if (report.server_cpu) {
      const double server = report.server_cpu->user_seconds + report.server_cpu->system_seconds;
      f.server_cpu_percent = 100.0 * server / report.client_cpu_window;
      f.server_us_per_request = c.requests ? server * 1e6 / static_cast<double>(c.requests) : 0.0;
    }
  }
  return f;
}

double union_seconds(const std::vector<RunSummary>& runs) {
  std::vector<WallWindow> windows;
  for (const auto& run : runs) windows.push_back(run.window);
  std::sort(windows.begin(), windows.end(), [](const auto& a, const auto& b) { return a.start_ns < b.start_ns; });
  std::int64_t covered = 0;
  std::optional<WallWindow> current;
  for (const auto& w : windows) {
    if (current && w.start_ns <= current->end_ns) {
      current->end_ns = std::max(current->end_ns, w.end_ns);
      continue;
    }
    if (current) covered += current->end_ns - current->start_ns;
    current = w;
  }
  if (current) covered += current->end_ns - current->start_ns;
  return static_cast<double>(covered) / 1e9;
}

double overlap_seconds(const std::vector<RunSummary>& runs) {
  if (runs.empty()) return 0;
  std::int64_t start = INT64_MIN, end = INT64_MAX;
  for (const auto& run : runs) {
    start = std::max(start, run.window.start_ns);
    end = std::min(end, run.window.end_ns);
  }
  return end > start ? static_cast<double>(end - start) / 1e9 : 0.0;
}

bool same_run(const RunSummary& a, const RunSummary& b) noexcept {
  return a.host.name == b.host.name && a.host.address == b.host.address && a.window.start_ns == b.window.start_ns &&
         a.window.end_ns == b.window.end_ns && a.requests == b.requests;
}

LoadShape shape_of(const BenchReport& report) {
  LoadShape shape;
  bool open = false, closed = false;
  for (const auto& run : report.runs) {
    shape.conns += run.conns;
    shape.threads += run.threads;
    shape.rate += run.rate;
    (run.rate > 0 ? open : closed) = true;
  }
  shape.mixed_loops = open && closed;
  if (!report.runs.empty() &&
      std::all_of(report.runs.begin(), report.runs.end(),
                  [&](const RunSummary& run) { return run.pipeline == report.runs.front().pipeline; }))
    shape.pipeline = report.runs.front().pipeline;
  return shape;
}

std::string top_codes_text(const HttpCounters& http, std::size_t n) {
  std::string text;
  for (const auto& [code, count] : http.top(n)) text += fmt::format("{}{} x{}", text.empty() ? "" : ", ", code, count);
  return text;
}

std::string utc_text(std::int64_t unix_ns) {
  constexpr std::int64_t kBillion = 1'000'000'000;
  // Floor division: a time before 1970 still gets a millisecond part in 0..999.
  std::int64_t seconds = unix_ns / kBillion;
  std::int64_t rest = unix_ns % kBillion;
  if (rest < 0) {
    --seconds;
    rest += kBillion;
  }
  const auto t = static_cast<std::time_t>(seconds);
  std::tm utc{};
  if (!::gmtime_r(&t, &utc)) return fmt::format("{} ns after 1970", unix_ns);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday,
                     utc.tm_hour, utc.tm_min, utc.tm_sec, rest / 1'000'000);
}

}  // namespace sockit::tools
