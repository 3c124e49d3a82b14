#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <unordered_set>

namespace sockit::serve::models::blocking {

/// The connections a threaded model is serving right now, so that stop can wait for them and,
/// once the grace period is over, shut their sockets down (a thread blocked in poll() or send()
/// on one then wakes up and ends). Holds descriptor numbers, not ownership: a serving thread
/// must remove() its socket before closing it, so shutdown never hits a reused number.
/// Thread-safe.
class LiveConnections {
 public:
  void add(int fd) {
    std::lock_guard lock(mutex_);
    fds_.insert(fd);
  }
  /// Adds `fd` unless `limit` connections are live already; false then.
  bool try_add(int fd, std::size_t limit) {
    std::lock_guard lock(mutex_);
    if (fds_.size() >= limit) return false;
    fds_.insert(fd);
    return true;
  }
  void remove(int fd) {
    std::lock_guard lock(mutex_);
    fds_.erase(fd);
    if (fds_.empty()) drained_.notify_all();
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return fds_.size();
  }
  /// Blocks until no connection is left or `timeout` passes; true if none is left.
  bool wait_until_empty(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return drained_.wait_for(lock, timeout, [&] { return fds_.empty(); });
  }
  /// shutdown(SHUT_RDWR) on every connection still open; returns how many there were.
  std::size_t shut_down_all();

 private:
  mutable std::mutex mutex_;
  std::condition_variable drained_;
  std::unordered_set<int> fds_;
};

}  // namespace sockit::serve::models::blocking
