#include "cli/bench_merge.hpp"

#include <fmt/core.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "tools/bench_merge.hpp"
#include "tools/bench_report_read.hpp"

namespace sockit::cli {
namespace {

struct MergeOptions {
  std::vector<std::string> files;
  bool force = false;
  bool json = false;
};

int run(const MergeOptions& o) {
  if (o.files.size() > tools::kMaxReportRuns) {
    fmt::print(stderr, "sockit bench merge: {} files; at most {} runs are merged\n", o.files.size(),
               tools::kMaxReportRuns);
    return 2;
  }
  tools::ReportMerger merger(o.force);
  for (const auto& file : o.files) {
    try {
      merger.add(tools::read_report_file(file), file);
    } catch (const std::invalid_argument& e) {
      // The merger's messages name the file already; the reader's do not.
      const std::string why = e.what();
      fmt::print(stderr, "sockit bench merge: {}{}\n", why.starts_with(file + ": ") ? "" : file + ": ", why);
      return 1;
    }
  }
  const auto report = merger.result();
  if (o.json)
    fmt::print("{}\n", tools::to_json(report).dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
  else
    fmt::print("{}", tools::format_table(report));
  return 0;
}

}  // namespace

Command add_bench_merge(CLI::App& bench) {
  auto o = std::make_shared<MergeOptions>();
  auto* cmd = bench.add_subcommand(
      "merge", "Combine the --json reports of runs from several load hosts into one report (exact percentiles)");
  cmd->add_option("files", o->files, "reports written by sockit bench --json (or by bench merge --json)")
      ->required()
      ->type_name("FILE.json");
  cmd->add_flag("--force", o->force,
                "merge reports of different workloads, targets, transports or workload options, or of open and "
                "closed loops");
  cmd->add_flag("--json", o->json, "print JSON, in the format of sockit bench --json");
  cmd->footer(fmt::format(
      "Requests, errors and bytes are added; the latency histograms are added bucket by bucket, so the\n"
      "percentiles are those of every request of every run, not averages. Rates are over the union of\n"
      "the runs' windows: time when any run measured counts once, gaps between runs not at all; the\n"
      "report also says how long all of them ran at once. Windows are the load hosts' wall-clock times:\n"
      "keep their clocks in sync. A file that is not a report, of another version or histogram scheme,\n"
      "whose counts do not add up, or that is larger than {} MiB is refused (exit 1), naming the file.\n\n"
      "Examples:\n"
      "  sockit bench echo 10.0.0.1:10007 --start-at $START --json > a.json   # on each load host, one START, then:\n"
      "  sockit bench merge a.json b.json",
      tools::kMaxReportBytes >> 20));
  return {cmd, [o] { return run(*o); }};
}

}  // namespace sockit::cli
