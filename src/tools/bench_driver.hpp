#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>

#include "net/address.hpp"
#include "net/result.hpp"
#include "tools/bench_counters.hpp"
#include "tools/bench_cpu.hpp"
#include "tools/bench_workload.hpp"

namespace sockit::tools {

/// One `sockit bench` run.
struct BenchConfig {
  net::Address target;
  WorkloadOptions workload;  ///< what `exchange` was made from (the report names it)
  Exchange exchange;
  unsigned conns = 1;        ///< connections (or UDP sockets), spread over the threads
  unsigned threads = 1;      ///< one epoll loop each
  unsigned pipeline = 1;     ///< requests in flight per connection (1 for connection_per_request)
  double rate = 0;           ///< requests/s over all connections (open loop); 0: closed loop
  std::chrono::milliseconds duration{5000};  ///< the measured window
  std::chrono::milliseconds warmup{1000};    ///< runs before the window; not counted
  std::chrono::milliseconds timeout{5000};   ///< a connect or request older than this fails
  std::optional<pid_t> server_pid;           ///< sample its CPU time over the window
};

struct BenchResult {
  BenchCounters counters;
  std::chrono::nanoseconds window{0};      ///< the window the counters cover (warmup end to end)
  std::chrono::system_clock::time_point window_start;  ///< the window's start in wall-clock time
  std::chrono::nanoseconds cpu_window{0};  ///< between the two CPU samples (almost the same)
  CpuTimes client_cpu;                  ///< this process over the window
  std::optional<CpuTimes> server_cpu;   ///< --server-pid's process tree over the window
};

/// Runs the load: `threads` non-blocking epoll loops, each driving its share of connections,
/// for warmup + duration. Blocks that long (plus a few milliseconds). A failed request counts
/// by kind, closes its connection, and the connection is opened again 10 ms later.
/// Errors: creating the epoll instance or threads, epoll failing to wait or to watch a socket
/// (see BenchLoop::failure()), or a server PID that cannot be read.
net::Result<BenchResult> run_bench(const BenchConfig& config);

}  // namespace sockit::tools
