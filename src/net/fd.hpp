#pragma once

#include <unistd.h>

#include <utility>

namespace sockit::net {

/// Owns one file descriptor and closes it exactly once. Move-only.
class Fd {
 public:
  explicit Fd(int fd = -1) noexcept : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  Fd(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }
  explicit operator bool() const noexcept { return valid(); }

  /// Gives up ownership: the caller must close the returned descriptor.
  int release() noexcept { return std::exchange(fd_, -1); }

  /// Closes the descriptor now (if any). On Linux close() is never retried, even on EINTR:
  /// the descriptor is gone either way and retrying could close someone else's.
  void reset() noexcept {
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  }

 private:
  int fd_;
};

}  // namespace sockit::net
