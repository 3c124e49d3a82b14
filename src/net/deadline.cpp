#include "net/deadline.hpp"

#include <fcntl.h>
#include <poll.h>

#include <cerrno>

namespace sockit::net {

int Deadline::poll_timeout_ms() const noexcept {
  if (is_never()) return -1;
  auto left = when_ - Clock::now();
  if (left <= Clock::duration::zero()) return 0;
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return ms > 0x7fffffff ? 0x7fffffff : static_cast<int>(ms);
}

Result<short> wait_ready(int fd, short events, Deadline deadline, std::string_view call) {
  for (;;) {
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, deadline.poll_timeout_ms());
    if (n > 0) return p.revents;
    if (n == 0) return errno_error(call, {}, ETIMEDOUT);
    if (errno != EINTR) return errno_error("poll");
  }
}

Result<void> set_nonblocking(int fd, bool on) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) return errno_error("fcntl(F_GETFL)");
  int wanted = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
  if (wanted != flags && ::fcntl(fd, F_SETFL, wanted) < 0) return errno_error("fcntl(F_SETFL)");
  return {};
}

}  // namespace sockit::net
