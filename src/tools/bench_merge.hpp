#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "tools/bench_report.hpp"

namespace sockit::tools {

/// Combines reports of runs made from several load hosts into one, exactly: counts are added,
/// the latency histograms are added bucket by bucket (so its percentiles are those of all the
/// requests, not averages), and rates are over the union of the runs' windows. A merged
/// report merges again like any other (its runs are carried along).
class ReportMerger {
 public:
  /// `force`: merge reports of different workloads, targets, transports, workload options, or
  /// of open and closed loops, which are refused otherwise.
  explicit ReportMerger(bool force = false) : force_(force) {}

  /// Adds `report`, read from `source` (a file name: its runs are labelled with it unless they
  /// already came from another). Throws std::invalid_argument, naming `source` and the report it
  /// clashes with, when it cannot be merged: another load (unless `force`), a run already added
  /// (it would count twice), counts that would pass 2^64, more than kMaxReportRuns runs in all.
  /// Nothing is added then.
  void add(BenchReport report, std::string_view source);

  /// The merged report. Throws std::bad_optional_access before the first add().
  BenchReport result() const;

 private:
  void check_same_load(const BenchReport& report, std::string_view source) const;
  void check_sums(const BenchReport& report) const;

  bool force_;
  std::optional<BenchReport> merged_;
  std::string first_source_;
};

}  // namespace sockit::tools
