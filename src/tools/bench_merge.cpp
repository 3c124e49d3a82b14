#include "tools/bench_merge.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <stdexcept>

#include "net/text.hpp"
#include "tools/bench_json_read.hpp"
#include "tools/bench_report_read.hpp"

namespace sockit::tools {
namespace {

// What a report's files said, masked for a terminal (they are untrusted).
std::string load_text(const BenchReport& r) {
  return fmt::format("{} over {} with options {}", net::printable(r.workload), net::printable(r.transport),
                     net::printable(r.workload_options.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
}

// "open loop", "closed loop", or both (a forced merge).
std::string loop_text(const BenchReport& r) {
  const auto shape = shape_of(r);
  return shape.mixed_loops ? "open and closed loops" : shape.rate > 0 ? "an open loop" : "a closed loop";
}

// "echo" + "fib" -> "echo, fib": what a forced merge of different loads is labelled with.
void add_distinct(std::string& list, const std::string& item) {
  std::string_view rest = list;
  while (!rest.empty()) {
    const auto comma = rest.find(", ");
    if (rest.substr(0, comma) == item) return;
    rest = comma == rest.npos ? std::string_view() : rest.substr(comma + 2);
  }
  list += ", " + item;
}

}  // namespace

void ReportMerger::check_same_load(const BenchReport& r, std::string_view source) const {
  const auto& m = *merged_;
  const auto refuse = [&](std::string what) {
    throw std::invalid_argument(fmt::format("{}: {} (bench merge --force merges them anyway)", source, what));
  };
  if (r.workload != m.workload || r.transport != m.transport || r.workload_options != m.workload_options)
    refuse(fmt::format("a different load: {}, where {} has {}", load_text(r), first_source_, load_text(m)));
  if (r.target != m.target)
    refuse(fmt::format("target {}, where {} has {}", net::printable(r.target), first_source_,
                       net::printable(m.target)));
  if (const auto a = loop_text(r), b = loop_text(m); a != b)
    refuse(fmt::format("{}, where {} has {}: their latencies are not measured alike (an open loop counts from each "
                       "request's intended send time)",
                       a, first_source_, b));
}

void ReportMerger::check_sums(const BenchReport& r) const {
  using json_read::add;
  const auto& a = merged_->counters;
  const auto& b = r.counters;
  add(a.requests, b.requests, "the requests");
  add(a.bytes_sent, b.bytes_sent, "the bytes sent");
  add(a.bytes_received, b.bytes_received, "the bytes received");
  std::uint64_t errors = 0;
  for (std::size_t k = 0; k < kErrorKinds; ++k)
    errors = add(errors, add(a.errors[k], b.errors[k], "the errors"), "the errors");
  for (std::size_t i = 0; i < a.http.by_status.size(); ++i)
    add(a.http.by_status[i], b.http.by_status[i], "the status codes");
  add(a.http.body_bytes, b.http.body_bytes, "the body bytes");
  add(a.http.reconnects, b.http.reconnects, "the reconnects");
}

void ReportMerger::add(BenchReport report, std::string_view source) {
  for (auto& run : report.runs)
    if (run.source.empty()) run.source = source;
  report.server_cpu.reset();  // one server process's, sampled by one run: not a sum of anything
  if (!merged_) {
    first_source_ = source;
    merged_ = std::move(report);
    return;
  }
  auto& m = *merged_;
  if (!force_) check_same_load(report, source);
  if (m.runs.size() + report.runs.size() > kMaxReportRuns)
    throw std::invalid_argument(fmt::format("{}: more than {} runs in all", source, kMaxReportRuns));
  for (const auto& run : report.runs)
    for (const auto& seen : m.runs)
      if (same_run(run, seen))
        throw std::invalid_argument(fmt::format("{}: the run of {} from {} is already merged (from {}): it would count "
                                                "twice",
                                                source, net::printable(run.host.name), utc_text(run.window.start_ns),
                                                net::printable(seen.source)));
  try {
    check_sums(report);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(fmt::format("{}: {}", source, e.what()));
  }

  add_distinct(m.workload, report.workload);
  add_distinct(m.transport, report.transport);
  add_distinct(m.target, report.target);
  if (report.workload_options != m.workload_options) m.workload_options = nullptr;
  m.counters.merge(report.counters);
  m.http = m.http || report.http;
  m.client_cpu_seconds += report.client_cpu_seconds;
  m.runs.insert(m.runs.end(), report.runs.begin(), report.runs.end());
}

BenchReport ReportMerger::result() const {
  BenchReport r = merged_.value();
  r.seconds = union_seconds(r.runs);
  r.overlap_seconds = overlap_seconds(r.runs);
  r.client_cpu_window = r.seconds;
  return r;
}

}  // namespace sockit::tools
