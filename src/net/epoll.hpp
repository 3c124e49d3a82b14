#pragma once

#include <sys/epoll.h>

#include <chrono>
#include <cstdint>
#include <span>
#include <vector>

#include "net/fd.hpp"
#include "net/result.hpp"

namespace sockit::net {

/// One epoll instance: every event loop of sockit, server or client, waits on one of these. Owns
/// its descriptor; move-only. Level-triggered unless `events` says EPOLLET. Each watched
/// descriptor carries a 64-bit tag of the caller's choosing (a descriptor, an index, a pointer),
/// which wait() hands back. Not thread-safe: one loop uses it.
class Epoll {
 public:
  /// epoll_create1(EPOLL_CLOEXEC); `max_events` bounds what one wait() returns.
  static Result<Epoll> create(std::size_t max_events = 256);

  int fd() const noexcept { return fd_.get(); }

  /// Starts watching `fd` for `events` (EPOLLIN, EPOLLOUT, EPOLLEXCLUSIVE...). Errors name the
  /// descriptor: EEXIST when it is already watched, EINVAL for EPOLLEXCLUSIVE on a modify...
  Result<void> add(int fd, std::uint32_t events, std::uint64_t tag);
  /// Changes what an already watched `fd` is watched for.
  Result<void> modify(int fd, std::uint32_t events, std::uint64_t tag);
  /// Stops watching `fd` (closing a descriptor removes it too, once no duplicate is left open).
  Result<void> remove(int fd);

  /// Blocks up to `timeout_ms` (-1: until something is ready; 0: never) and returns what is
  /// ready, valid until the next wait(). An interrupted wait (EINTR) returns nothing.
  Result<std::span<const epoll_event>> wait(int timeout_ms);
  /// The same to the nanosecond (epoll_pwait2, Linux 5.11): for timers finer than a millisecond,
  /// such as an open-loop load schedule.
  Result<std::span<const epoll_event>> wait(std::chrono::nanoseconds timeout);

 private:
  Epoll(Fd fd, std::size_t max_events) : fd_(std::move(fd)), ready_(max_events) {}
  Result<void> control(int op, int fd, std::uint32_t events, std::uint64_t tag);

  Fd fd_;
  std::vector<epoll_event> ready_;
};

}  // namespace sockit::net
