#pragma once

#include <cstdint>

namespace sockit::serve::admin {

/// This process as the kernel sees it now (/proc/self, getrusage, getrlimit), for the standard
/// process_* metrics. A value that cannot be read is 0. Under the fork model the children are
/// other processes: their memory and descriptors are not in these figures.
struct ProcessStats {
  std::uint64_t resident_bytes = 0;  ///< RSS (/proc/self/statm)
  std::uint64_t open_fds = 0;        ///< entries of /proc/self/fd
  std::uint64_t max_fds = 0;         ///< RLIMIT_NOFILE's soft limit
  double cpu_seconds = 0;            ///< user and system time
  double start_time = 0;             ///< seconds since the Unix epoch (/proc/self/stat, /proc/stat)
};

/// Reads them; costs a few small reads of /proc and one pass over the descriptor table.
ProcessStats process_stats();

}  // namespace sockit::serve::admin
