#pragma once

#include <functional>
#include <thread>

#include "serve/stop_signal.hpp"

namespace sockit::cli {

/// While alive, SIGINT and SIGTERM call stop.request() instead of killing the process, and
/// SIGPIPE is ignored (a peer that left must not kill a server); the former handlers come back
/// on destruction. One at a time per process. `on_stop`, when given, runs once, on this object's
/// thread, right after the first signal's stop.request() (to tell systemd the server is stopping).
/// With `on_hangup`, SIGHUP calls it (a reload) on this object's thread, once for a burst of them,
/// and never once stop was requested.
///
/// A handler may run on any thread of the process, at any moment, even while this object is
/// being destroyed; so it only writes one byte to a pipe that is never closed, and a thread of
/// this object reads the pipe and requests the stop. Nothing a handler touches ever goes away.
class StopOnSignals {
 public:
  explicit StopOnSignals(serve::StopSignal& stop, std::function<void()> on_stop = {},
                         std::function<void()> on_hangup = {});
  ~StopOnSignals();
  StopOnSignals(const StopOnSignals&) = delete;
  StopOnSignals& operator=(const StopOnSignals&) = delete;

 private:
  bool hangup_;
  std::thread watcher_;
};

}  // namespace sockit::cli
