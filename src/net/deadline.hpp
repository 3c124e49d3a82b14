#pragma once

#include <chrono>
#include <string_view>

#include "net/result.hpp"

namespace sockit::net {

/// A point in time after which a blocking call gives up with a "timed out" error.
class Deadline {
 public:
  using Clock = std::chrono::steady_clock;

  static Deadline never() noexcept { return Deadline(Clock::time_point::max()); }
  static Deadline after(std::chrono::milliseconds timeout) noexcept {
    return Deadline(Clock::now() + timeout);
  }
  static Deadline at(Clock::time_point when) noexcept { return Deadline(when); }

  bool is_never() const noexcept { return when_ == Clock::time_point::max(); }
  bool expired() const noexcept { return !is_never() && Clock::now() >= when_; }
  Clock::time_point when() const noexcept { return when_; }
  /// What poll() wants: -1 for never, else the milliseconds left, rounded up, at least 0.
  int poll_timeout_ms() const noexcept;

 private:
  explicit Deadline(Clock::time_point when) noexcept : when_(when) {}
  Clock::time_point when_;
};

/// Blocks until `fd` is ready for `events` (POLLIN, POLLOUT) or `deadline` passes (error
/// ETIMEDOUT naming `call`). Restarts after EINTR with the time that is left. Returns revents,
/// which may include POLLERR/POLLHUP: the next I/O call will say what happened.
Result<short> wait_ready(int fd, short events, Deadline deadline, std::string_view call = "poll");

/// Switches O_NONBLOCK on or off.
Result<void> set_nonblocking(int fd, bool on = true);

}  // namespace sockit::net
