#pragma once

#include <chrono>
#include <functional>
#include <future>

#include "serve/stop_signal.hpp"

namespace sockit::testing {

/// Runs a call that blocks until its StopSignal fires (a model's run, a server's, a seeding
/// loop) on a thread of its own; stops it on destruction.
class UntilStopped {
 public:
  explicit UntilStopped(std::function<void(serve::StopSignal&)> body)
      : done_(std::async(std::launch::async, [this, body = std::move(body)] { body(stop_); })) {}
  ~UntilStopped() { stop_and_wait(); }
  UntilStopped(const UntilStopped&) = delete;
  UntilStopped& operator=(const UntilStopped&) = delete;

  /// Requests stop; true if the call returned within `limit`.
  bool stop_and_wait(std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    stop_.request();
    return done_.wait_for(limit) == std::future_status::ready;
  }

 private:
  serve::StopSignal stop_;
  std::future<void> done_;
};

}  // namespace sockit::testing
