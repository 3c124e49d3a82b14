#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/result.hpp"
#include "tools/scan.hpp"

namespace sockit::tools {

/// What makes two scans the same scan: a resumed scan must have all of it in common with the
/// one it continues (pacing options such as rate, parallel and threads may differ).
struct ScanPlan {
  std::string target;  ///< the address scanned, numeric
  ScanProtocol protocol = ScanProtocol::tcp;
  std::vector<std::uint16_t> ports;  ///< sorted, no duplicates
  long timeout_ms = 1000;
  int retries = 1;
  bool banner = false;
  long banner_timeout_ms = 2000;
};

/// An interrupted scan: its plan and the ports already done.
struct ResumeState {
  ScanPlan plan;
  std::vector<PortResult> done;  ///< sorted by port, each in plan.ports
  double elapsed_s = 0;          ///< time spent so far, over every run
  long long probes = 0;
};

/// A resume file bigger than this is refused unread.
inline constexpr std::size_t kResumeFileMax = 16 << 20;

/// "1-3,7,9-10": `ports` (sorted) as parse_ports() reads them.
std::string port_ranges(const std::vector<std::uint16_t>& ports);

/// The resume file's text: a versioned header line, one "key value" line per plan field, one
/// "done" line per port (banner and server hex-encoded), and "end".
std::string format_resume(const ResumeState& state);
/// The inverse of format_resume(). The text is untrusted: every field is checked (ranges,
/// names, sizes, duplicates, ports outside the plan, a missing "end"); errors say which line
/// and what is wrong.
net::Result<ResumeState> parse_resume(std::string_view text);

/// Why `file` (from a resume file) and `wanted` (the command line) are not the same scan, naming
/// the option and both values; nullopt when they are.
std::optional<std::string> plan_conflict(const ScanPlan& file, const ScanPlan& wanted);

/// Reads and parses `path`; nullopt when it does not exist. Refuses a file over kResumeFileMax
/// or not a regular file.
net::Result<std::optional<ResumeState>> load_resume(const std::string& path);
/// Writes `state` to `path` atomically: a temporary file beside it, fsync, rename.
net::Result<void> save_resume(const std::string& path, const ResumeState& state);

}  // namespace sockit::tools
