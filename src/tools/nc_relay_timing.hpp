#pragma once

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <optional>

#include "net/error.hpp"
#include "net/result.hpp"
#include "tools/nc_relay.hpp"

// The clocks every relay loop of nc shares (plain, datagram, TLS): the idle timeout (-w), the
// quit timer (-q) and a poll() that survives signals.
namespace sockit::tools::relay_timing {

// What a pipe among nc's ends is grown to (F_SETPIPE_SZ), so one splice moves a lot.
inline constexpr int kPipeSize = 1024 * 1024;

inline int idle_ms(const RelayOptions& options) {
  return options.idle_timeout.count() > 0 ? static_cast<int>(options.idle_timeout.count()) : -1;
}

// nc -q: once input ended, the relay ends at a fixed time whatever the peer does.
class QuitTimer {
 public:
  explicit QuitTimer(const RelayOptions& options) : after_(options.quit_after_input_eof) {}
  void input_ended() {
    if (after_ && at_ == kNever) at_ = std::chrono::steady_clock::now() + *after_;
  }
  bool due() const { return std::chrono::steady_clock::now() >= at_; }
  /// `timeout_ms` (-1: none) shortened to what is left before the quit time.
  int limit(int timeout_ms) const {
    if (at_ == kNever) return timeout_ms;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(at_ - std::chrono::steady_clock::now());
    const int left_ms = static_cast<int>(std::max<long long>(0, left.count() + 1));
    return timeout_ms < 0 ? left_ms : std::min(timeout_ms, left_ms);
  }

 private:
  // A time point rather than an optional one: GCC 12 at -O2 and -O3 takes the optional's value
  // for uninitialised (-Wmaybe-uninitialized).
  static constexpr auto kNever = std::chrono::steady_clock::time_point::max();
  std::optional<std::chrono::milliseconds> after_;
  std::chrono::steady_clock::time_point at_ = kNever;
};

// poll() that restarts after EINTR; returns how many descriptors are ready (0: timeout).
inline net::Result<int> poll_fds(pollfd* fds, nfds_t count, int timeout_ms) {
  for (;;) {
    int n = ::poll(fds, count, timeout_ms);
    if (n >= 0) return n;
    if (errno != EINTR) return net::errno_error("poll");
  }
}

}  // namespace sockit::tools::relay_timing
