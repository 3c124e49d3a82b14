#pragma once

#include "serve/stop_signal.hpp"

namespace sockit::cli {

/// While alive, SIGINT and SIGTERM call stop.request() (async-signal-safe) instead of killing the
/// process, and SIGPIPE is ignored (a peer that left must not kill a server); the former handlers
/// come back on destruction. One at a time per process.
class StopOnSignals {
 public:
  explicit StopOnSignals(serve::StopSignal& stop);
  ~StopOnSignals();
  StopOnSignals(const StopOnSignals&) = delete;
  StopOnSignals& operator=(const StopOnSignals&) = delete;
};

}  // namespace sockit::cli
