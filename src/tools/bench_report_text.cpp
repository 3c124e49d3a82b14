#include <fmt/core.h>

#include "net/text.hpp"
#include "tools/bench_report.hpp"

namespace sockit::tools {
namespace {


// 1234567 -> "1.23M"; numbers for people.
std::string si(double value) {
  if (value >= 1e9) return fmt::format("{:.2f}G", value / 1e9);
  if (value >= 1e6) return fmt::format("{:.2f}M", value / 1e6);
  if (value >= 1e3) return fmt::format("{:.2f}k", value / 1e3);
  return fmt::format("{:.1f}", value);
}

std::string duration_text(std::uint64_t ns) {
  if (ns >= 1'000'000'000) return fmt::format("{:.2f} s", static_cast<double>(ns) / 1e9);
  if (ns >= 1'000'000) return fmt::format("{:.2f} ms", static_cast<double>(ns) / 1e6);
  return fmt::format("{:.1f} us", static_cast<double>(ns) / 1e3);
}

std::string mode_text(const LoadShape& shape) {
  if (shape.mixed_loops) return fmt::format("open loops at {} req/s and closed loops", si(shape.rate));
  return shape.rate > 0 ? fmt::format("open loop at {} req/s", si(shape.rate)) : "closed loop";
}

// Names a merged report read from files: shown with their control bytes masked (a crafted file
// must not move the terminal's cursor or forge lines).
std::string host_text(const LoadHost& host) {
  return host.address.empty() ? net::printable(host.name)
                              : fmt::format("{} ({})", net::printable(host.name), net::printable(host.address));
}

std::string http_lines(const HttpCounters& h, double body_bytes_per_s) {
  std::string out;
  out += fmt::format("  {:<14} {}B/s, {}B in {} responses\n", "bodies", si(body_bytes_per_s),
                     si(static_cast<double>(h.body_bytes)), h.responses());
  out += fmt::format("  {:<14} 2xx {}, 3xx {}, 4xx {}, 5xx {}{}\n", "status", h.in_class(2), h.in_class(3),
                     h.in_class(4), h.in_class(5), h.responses() ? " (" + top_codes_text(h, kTopStatusCodes) + ")" : "");
  out += fmt::format("  {:<14} {} (the server ended a connection after a response or while idle)\n", "reconnects",
                     h.reconnects);
  return out;
}

// One line per run of a merged report: who, from when, how much, how fast.
std::string run_line(const RunSummary& run) {
  const double seconds = run.window.seconds();
  const auto source = run.source.empty() ? std::string() : fmt::format(" {}", net::printable(run.source, kMaxReportText));
  const double rate = seconds > 0 ? static_cast<double>(run.requests) / seconds : 0;
  return fmt::format("    {}{}: {}, {} in {:.2f} s from {}, {}/s, {}, p50 {}, p99 {}, max {}\n", host_text(run.host),
                     source, net::counted(run.conns, "conn"), net::counted(run.requests, "request"), seconds,
                     utc_text(run.window.start_ns), si(rate), net::counted(run.errors, "error"),
                     duration_text(run.p50_ns), duration_text(run.p99_ns), duration_text(run.max_ns));
}

std::string runs_lines(const BenchReport& report) {
  if (report.runs.size() == 1 && report.runs.front().source.empty()) {
    const auto& run = report.runs.front();
    return fmt::format("  {:<14} {}, from {}\n", "load host", host_text(run.host), utc_text(run.window.start_ns));
  }
  std::string out =
      fmt::format("  {:<14} {} over {:.2f} s (the rates' time: any run measuring), {:.2f} s of it all at once\n",
                  "runs", report.runs.size(), report.seconds, report.overlap_seconds);
  for (const auto& run : report.runs) out += run_line(run);
  return out;
}

}  // namespace

std::string format_table(const BenchReport& report) {
  const auto f = figures_of(report);
  const auto shape = shape_of(report);
  const auto& c = report.counters;
  std::string out;
  out += fmt::format("{} against {} ({}): {}, {}, pipeline {}, {}\n", net::printable(report.workload, kMaxReportText),
                     net::printable(report.target, kMaxReportText), net::printable(report.transport),
                     net::counted(shape.conns, "connection"), net::counted(shape.threads, "thread"),
                     shape.pipeline ? std::to_string(*shape.pipeline) : "varies by run", mode_text(shape));
  out += fmt::format("  {:<14} {} in {:.2f} s\n", "requests", c.requests, report.seconds);
  out += fmt::format("  {:<14} {}/s\n", "throughput", si(f.requests_per_s));
  out += fmt::format("  {:<14} {}B/s received, {}B sent, {}B received\n", "bytes", si(f.bytes_per_s),
                     si(static_cast<double>(c.bytes_sent)), si(static_cast<double>(c.bytes_received)));
  if (report.http) out += http_lines(c.http, f.body_bytes_per_s);
  std::string errors;
  for (std::size_t k = 0; k < kErrorKinds; ++k)
    errors += fmt::format("{}{} {}", errors.empty() ? "" : ", ", error_kind_name(static_cast<ErrorKind>(k)), c.errors[k]);
  out += fmt::format("  {:<14} {} ({})\n", "errors", c.error_total(), errors);
  std::string row;
  for (const auto& [label, p] : kReportPercentiles) row += fmt::format(" {:>10}", duration_text(c.latency_ns.percentile(p)));
  out += fmt::format("  {:<14} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}\n", "latency", "p50", "p90", "p99", "p99.9",
                     "max", "mean");
  out += fmt::format("  {:<14}{} {:>10}\n", "", row, duration_text(static_cast<std::uint64_t>(c.latency_ns.mean())));
  out += fmt::format("  {:<14} {:.0f}% of a core\n", "client cpu", f.client_cpu_percent);
  if (report.server_cpu)
    out += fmt::format("  {:<14} {:.0f}% of a core, {:.2f} us per request (pid {})\n", "server cpu",
                       f.server_cpu_percent, f.server_us_per_request, report.server_cpu->pid);
  out += runs_lines(report);
  return out;
}

}  // namespace sockit::tools
