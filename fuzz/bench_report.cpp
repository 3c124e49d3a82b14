// The reader of `sockit bench merge` (tools/bench_report_read.hpp) on any file: it refuses with
// std::invalid_argument or returns a report whose counts add up (one latency per request, the
// runs summing to the totals), which writes back to JSON that reads back to the same JSON, and
// which merges with a copy of itself only as a run it already has. Memory stays bounded (the
// input is at most what a file may be; nesting is refused past 8 levels).
#include <stdexcept>

#include "support/check.hpp"
#include "tools/bench_merge.hpp"
#include "tools/bench_report_read.hpp"

using namespace sockit;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > tools::kMaxReportBytes) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  tools::BenchReport report;
  try {
    report = tools::parse_report(text);
  } catch (const std::invalid_argument&) {
    return 0;
  }
  const auto& c = report.counters;
  fuzz::require(c.latency_ns.count() == c.requests, "a report whose histogram does not hold one latency per request");
  std::uint64_t requests = 0;
  for (const auto& run : report.runs) requests += run.requests;
  fuzz::require(requests == c.requests, "a report whose runs do not add up to its requests");
  fuzz::require(!report.runs.empty() && report.runs.size() <= tools::kMaxReportRuns,
                "a report with no runs or too many");

  const auto written = tools::to_json(report).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  tools::BenchReport again;
  try {
    again = tools::parse_report(written);
  } catch (const std::invalid_argument& e) {
    fuzz::require(false, "a report it accepted, written back, is refused: ", e.what());
  }
  const auto rewritten = tools::to_json(again).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  fuzz::require(rewritten == written, "a report read back writes different JSON");
  (void)tools::format_table(again);

  tools::ReportMerger merger;
  merger.add(report, "a.json");
  bool refused = false;
  try {
    merger.add(again, "b.json");
  } catch (const std::invalid_argument&) {
    refused = true;
  }
  fuzz::require(refused, "a report merged with itself: its runs would count twice");
  return 0;
}
