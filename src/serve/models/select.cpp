// The select() model: one loop, fd_sets rebuilt before every call (select overwrites them), as
// in the notes' select servers and CS:APP's event-driven echo server. select() cannot name a
// descriptor at or above FD_SETSIZE (1024): such clients are accepted and closed with a log
// line; FD_SET is never called past it (that would write outside the fd_set).
#include <fmt/core.h>
#include <sys/select.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "net/error.hpp"
#include "serve/models/models.hpp"
#include "serve/models/reactor.hpp"

namespace sockit::serve::models {
namespace {

class SelectPoller : public Poller {
 public:
  bool can_watch(int fd) const noexcept override { return fd >= 0 && fd < FD_SETSIZE; }

  void watch(int fd, unsigned interest) override {
    if (!can_watch(fd)) throw net::errno_error("select", fmt::format("descriptor {} (FD_SETSIZE {})", fd, FD_SETSIZE), EINVAL);
    interest_[static_cast<std::size_t>(fd)] = interest;
    if (interest && fd > max_fd_) max_fd_ = fd;
    while (max_fd_ >= 0 && interest_[static_cast<std::size_t>(max_fd_)] == 0) --max_fd_;
  }

  void wait(int timeout_ms, std::vector<Event>& ready) override {
    ready.clear();
    fd_set readable;
    fd_set writable;
    FD_ZERO(&readable);
    FD_ZERO(&writable);
    for (int fd = 0; fd <= max_fd_; ++fd) {
      const unsigned interest = interest_[static_cast<std::size_t>(fd)];
      if (interest & kReadable) FD_SET(fd, &readable);
      if (interest & kWritable) FD_SET(fd, &writable);
    }
    timeval timeout{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    const int n = ::select(max_fd_ + 1, &readable, &writable, nullptr, timeout_ms < 0 ? nullptr : &timeout);
    if (n < 0) {
      if (errno == EINTR) return;
      throw net::errno_error("select");
    }
    for (int fd = 0; fd <= max_fd_ && static_cast<int>(ready.size()) < n; ++fd) {
      const unsigned got = (FD_ISSET(fd, &readable) ? kReadable : 0u) | (FD_ISSET(fd, &writable) ? kWritable : 0u);
      if (got) ready.push_back({fd, got});
    }
  }

 private:
  std::vector<unsigned> interest_ = std::vector<unsigned>(FD_SETSIZE, 0);
  int max_fd_ = -1;
};

class SelectModel : public EventModel {
 public:
  explicit SelectModel(const ModelOptions& options)
      : offload_(options.offload), log_(options.log, options.metrics) {}
  std::string_view name() const noexcept override { return "select"; }

 protected:
  void serve_all(std::span<const Endpoint> endpoints, const Limits& limits, StopSignal& stop) override {
    ReactorShared shared{endpoints, limits, stop, log_, offload_};
    EventLoop(std::make_unique<SelectPoller>(), shared).run();
  }

 private:
  bool offload_;
  ModelLog log_;
};

}  // namespace

std::unique_ptr<Model> make_select(const ModelOptions& options) { return std::make_unique<SelectModel>(options); }

}  // namespace sockit::serve::models
