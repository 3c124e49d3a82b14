#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string_view>

#include "net/result.hpp"

namespace sockit::tools {

/// CPU time a process (or process tree) has used: user and system.
struct CpuTimes {
  std::chrono::nanoseconds user{0};
  std::chrono::nanoseconds system{0};
  std::chrono::nanoseconds total() const noexcept { return user + system; }
};

CpuTimes operator-(const CpuTimes& a, const CpuTimes& b) noexcept;
CpuTimes operator+(const CpuTimes& a, const CpuTimes& b) noexcept;

/// The fields of one /proc/PID/stat line that matter here, in clock ticks.
struct ProcStat {
  pid_t pid = 0;
  pid_t parent = 0;
  unsigned long long utime = 0, stime = 0;    ///< the process's own threads
  unsigned long long cutime = 0, cstime = 0;  ///< its children that have been waited for
};

/// Parses a /proc/PID/stat line. The command name may hold spaces and parentheses, so fields
/// are counted from the last ')'. nullopt if the line is not one.
std::optional<ProcStat> parse_proc_stat(std::string_view line);

/// Reads /proc/PID/stat; an error when the process does not exist.
net::Result<ProcStat> read_proc_stat(pid_t pid);

/// The CPU time of `pid` and its children: its own utime+stime, its waited-for children's
/// (cutime+cstime) and those of its live children, so a fork-per-connection server is charged
/// for the children it starts and reaps within a window. Grandchildren are not followed.
/// Differences of two samples are exact to a clock tick (usually 10 ms).
net::Result<CpuTimes> process_tree_cpu(pid_t pid);

/// This process's CPU time (every thread), from getrusage().
CpuTimes own_cpu();

}  // namespace sockit::tools
