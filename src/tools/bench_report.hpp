#pragma once

#include <sys/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tools/bench_counters.hpp"
#include "tools/bench_driver.hpp"

namespace sockit::tools {

/// The JSON report's format, so a reader (bench merge) knows what it holds. docs/bench.md
/// describes version 1.
inline constexpr std::string_view kReportFormat = "sockit-bench-report";
inline constexpr int kReportVersion = 1;

/// The percentiles a report shows, by their JSON names (100: the maximum).
inline constexpr std::array<std::pair<const char*, double>, 5> kReportPercentiles{{
    {"p50", 50.0}, {"p90", 90.0}, {"p99", 99.0}, {"p99_9", 99.9}, {"max", 100.0}}};
/// How many of the most frequent HTTP status codes a report names.
inline constexpr std::size_t kTopStatusCodes = 5;

/// The longest free text (a target, a workload, a source file name) a report reads or prints.
inline constexpr std::size_t kMaxReportText = 4096;

/// Where a run's load came from.
struct LoadHost {
  std::string name;     ///< --load-host, else this machine's host name
  std::string address;  ///< the source address the kernel picks toward the target; "" for unix:
};

/// A measured window in wall-clock time: nanoseconds since the Unix epoch (UTC).
struct WallWindow {
  std::int64_t start_ns = 0;
  std::int64_t end_ns = 0;
  double seconds() const noexcept { return static_cast<double>(end_ns - start_ns) / 1e9; }
};

/// One `sockit bench` process's run, as a line of a merged report.
struct RunSummary {
  std::string source;  ///< the file it was read from; empty for the run just made
  LoadHost host;
  unsigned conns = 0;
  unsigned threads = 0;
  unsigned pipeline = 1;
  double rate = 0;  ///< requests/s of the open loop; 0: closed loop
  WallWindow window;
  std::uint64_t requests = 0;
  std::uint64_t errors = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t p50_ns = 0, p99_ns = 0, max_ns = 0;
};

/// The time any of `runs` was measuring: the measure of the union of their windows (overlaps
/// count once, gaps between runs not at all).
double union_seconds(const std::vector<RunSummary>& runs);
/// The time all of `runs` were measuring at once (0 when some two never overlapped).
double overlap_seconds(const std::vector<RunSummary>& runs);

/// Whether `a` and `b` are one run (the same host, window and requests): merged twice, it
/// would count twice.
bool same_run(const RunSummary& a, const RunSummary& b) noexcept;

/// The CPU time of the --server-pid process (and its children) over a run's window.
struct ServerCpu {
  pid_t pid = 0;
  double user_seconds = 0;
  double system_seconds = 0;
};

/// Everything a report shows: one run of `sockit bench`, or several runs merged (`bench merge`).
/// Rates are over `seconds`: a run's window, or the union of the merged runs' windows.
struct BenchReport {
  std::string workload;                ///< "echo", "http", ...
  nlohmann::json workload_options;     ///< what tells two runs of one workload apart: {"size": 64}
  std::string transport;               ///< "tcp", "udp", "unix"
  std::string target;                  ///< as given: "127.0.0.1:10007", "http://h/x"
  std::vector<RunSummary> runs;        ///< one for a single run
  BenchCounters counters;              ///< requests, bytes, errors, the latency histogram, http
  bool http = false;                   ///< counters.http is the http workload's
  double seconds = 0;                  ///< a run's window; merged: the union of the runs' windows
  double overlap_seconds = 0;          ///< time every run measured at once (a run: its window)
  double client_cpu_seconds = 0;       ///< summed over the runs
  double client_cpu_window = 0;        ///< the seconds that CPU time is a share of
  std::optional<ServerCpu> server_cpu; ///< a single run with --server-pid only
};

/// The report of a run just made against `target` (as the user gave it). `host` labels it
/// (see load_host()).
BenchReport report_of(const BenchConfig& config, const BenchResult& result, std::string target,
                      const LoadHost& host);

/// This machine as a load host of `target`: `name` (when empty, gethostname()) and the source
/// address the kernel would use toward it (a connected UDP socket's name: no packet is sent).
LoadHost load_host(const net::Address& target, std::string name);

/// Figures derived from a report, in the units the report prints.
struct BenchFigures {
  double requests_per_s = 0;
  double bytes_per_s = 0;        ///< received (the direction every workload has)
  double body_bytes_per_s = 0;   ///< http: response bodies only
  double client_cpu_percent = 0; ///< of one core (merged: the load hosts' cores added up)
  double server_cpu_percent = 0; ///< of one core; 0 without a server_cpu
  double server_us_per_request = 0;
};
BenchFigures figures_of(const BenchReport& report);

/// What a report's runs add up to: connections and threads added, the pipeline when every run
/// used the same one, the open loops' rates added (0 when every run was a closed loop).
struct LoadShape {
  unsigned conns = 0;
  unsigned threads = 0;
  std::optional<unsigned> pipeline;
  double rate = 0;
  bool mixed_loops = false;  ///< open and closed loops merged (bench merge --force)
};
LoadShape shape_of(const BenchReport& report);

/// "tcp", "udp", or "unix" for a unix: target.
std::string_view transport_name(const BenchConfig& config);

/// The workload_options of a configuration: echo/connect/stream {"size"}, fib {"n"}, raw
/// {"send", "expect", "expect_bytes"} (escaped as --send takes them), http {"method"}, else {}.
nlohmann::json workload_options_of(const BenchConfig& config);

/// The top `n` status codes with their counts: "404 x1200, 500 x3".
std::string top_codes_text(const HttpCounters& http, std::size_t n = 5);

/// "2026-01-02T03:04:05.678Z" for nanoseconds since the Unix epoch.
std::string utc_text(std::int64_t unix_ns);

/// The human-readable report: throughput, errors by kind, latency percentiles, CPU; for http
/// also status classes, the top status codes, body bytes/s and reconnects; the load host, and
/// for a merged report one line per run.
std::string format_table(const BenchReport& report);

/// The same as JSON (latencies in microseconds), with the whole latency histogram and what
/// `bench merge` needs (format and version, windows, per-run lines). docs/bench.md has the schema.
nlohmann::json to_json(const BenchReport& report);

}  // namespace sockit::tools
