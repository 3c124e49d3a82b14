#include "net/epoll.hpp"

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <string>

#include "net/error.hpp"

namespace sockit::net {

Result<Epoll> Epoll::create(std::size_t max_events) {
  Fd fd(::epoll_create1(EPOLL_CLOEXEC));
  if (!fd) return errno_error("epoll_create1");
  return Epoll(std::move(fd), max_events == 0 ? 1 : max_events);
}

Result<void> Epoll::add(int fd, std::uint32_t events, std::uint64_t tag) { return control(EPOLL_CTL_ADD, fd, events, tag); }

Result<void> Epoll::modify(int fd, std::uint32_t events, std::uint64_t tag) {
  return control(EPOLL_CTL_MOD, fd, events, tag);
}

Result<void> Epoll::remove(int fd) { return control(EPOLL_CTL_DEL, fd, 0, 0); }

Result<void> Epoll::control(int op, int fd, std::uint32_t events, std::uint64_t tag) {
  epoll_event event{};
  event.events = events;
  event.data.u64 = tag;
  if (::epoll_ctl(fd_.get(), op, fd, &event) == 0) return {};
  const char* call = op == EPOLL_CTL_ADD ? "epoll_ctl(ADD)" : op == EPOLL_CTL_MOD ? "epoll_ctl(MOD)" : "epoll_ctl(DEL)";
  return errno_error(call, "descriptor " + std::to_string(fd));
}

Result<std::span<const epoll_event>> Epoll::wait(int timeout_ms) {
  const int n = ::epoll_wait(fd_.get(), ready_.data(), static_cast<int>(ready_.size()), timeout_ms);
  if (n >= 0) return std::span<const epoll_event>(ready_.data(), static_cast<std::size_t>(n));
  if (errno == EINTR) return std::span<const epoll_event>();
  return errno_error("epoll_wait");
}

Result<std::span<const epoll_event>> Epoll::wait(std::chrono::nanoseconds timeout) {
  const auto ns = std::max<std::int64_t>(0, timeout.count());
  const timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
  const int n = ::epoll_pwait2(fd_.get(), ready_.data(), static_cast<int>(ready_.size()), &ts, nullptr);
  if (n >= 0) return std::span<const epoll_event>(ready_.data(), static_cast<std::size_t>(n));
  if (errno == EINTR) return std::span<const epoll_event>();
  return errno_error("epoll_pwait2");
}

}  // namespace sockit::net
