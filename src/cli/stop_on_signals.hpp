#pragma once

#include <thread>

#include "serve/stop_signal.hpp"

namespace sockit::cli {

/// While alive, SIGINT and SIGTERM call stop.request() instead of killing the process, and
/// SIGPIPE is ignored (a peer that left must not kill a server); the former handlers come back
/// on destruction. One at a time per process.
///
/// A handler may run on any thread of the process, at any moment, even while this object is
/// being destroyed; so it only writes one byte to a pipe that is never closed, and a thread of
/// this object reads the pipe and requests the stop. Nothing a handler touches ever goes away.
class StopOnSignals {
 public:
  explicit StopOnSignals(serve::StopSignal& stop);
  ~StopOnSignals();
  StopOnSignals(const StopOnSignals&) = delete;
  StopOnSignals& operator=(const StopOnSignals&) = delete;

 private:
  std::thread watcher_;
};

}  // namespace sockit::cli
