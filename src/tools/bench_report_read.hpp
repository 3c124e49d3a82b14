#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "tools/bench_report.hpp"

namespace sockit::tools {

/// What `bench merge` accepts from one file (it reads untrusted files): its size, how deep
/// its JSON nests, how many runs it lists. A legitimate report is far smaller: a full
/// histogram is about 0.5 MB, a run about 1 KB.
inline constexpr std::size_t kMaxReportBytes = std::size_t{4} << 20;
inline constexpr int kMaxReportDepth = 8;
inline constexpr std::size_t kMaxReportRuns = 1024;

/// The report to_json() wrote, read back: the counts, the histogram and the runs. What is
/// derived from them (rates, percentiles, status classes, windows) is recomputed, not read;
/// a server's CPU is left out (it belongs to the run that sampled it). Throws
/// std::invalid_argument saying what is wrong: not a sockit bench report, another version, a
/// missing or malformed member, counts that do not add up (histogram and requests, runs and
/// totals, status codes and responses).
BenchReport report_from_json(const nlohmann::json& json);

/// Parses `text` as JSON, nested at most kMaxReportDepth deep, then report_from_json().
/// Throws std::invalid_argument.
BenchReport parse_report(std::string_view text);

/// Reads the file at `path` (at most kMaxReportBytes) and parses it. Throws
/// std::invalid_argument whose message says why (not naming the file: the caller does).
BenchReport read_report_file(const std::string& path);

}  // namespace sockit::tools
