// The epoll model: `threads` reactors (default one per core), each its own epoll instance and
// its own connections, all on the one listener.
//
// Why EPOLLEXCLUSIVE on the shared listener and not one SO_REUSEPORT listener per thread: the
// listener arrives bound (port 0 already chosen, maybe a Unix path, maybe without SO_REUSEPORT),
// and closing one of several SO_REUSEPORT listeners drops the clients queued on it, where one
// listener loses nobody at shutdown. EPOLLEXCLUSIVE wakes one reactor per arriving client (no
// thundering herd); a reactor that wakes for nothing gets EAGAIN from accept4 and goes on.
//
// Why level-triggered: a connection above the high-water mark stops reading with bytes still
// in the kernel. Level-triggered, it is simply reported again once interest comes back;
// edge-triggered would need the loop to remember which sockets it left undrained. The price, a
// re-report of sockets we chose not to drain, is avoided by removing interest we don't have.
#include <fmt/core.h>
#include <sys/epoll.h>

#include <algorithm>

#include <cerrno>
#include <exception>
#include <thread>
#include <unordered_map>
#include <vector>

#include "net/error.hpp"
#include "net/fd.hpp"
#include "serve/models/models.hpp"
#include "serve/models/reactor.hpp"

namespace sockit::serve::models {
namespace {

constexpr int kEventsPerWait = 256;

class EpollPoller : public Poller {
 public:
  EpollPoller() : epoll_(::epoll_create1(EPOLL_CLOEXEC)) {
    if (!epoll_) throw net::errno_error("epoll_create1");
  }

  void watch(int fd, unsigned interest) override {
    const auto found = watched_.find(fd);
    if (interest == 0) {
      if (found == watched_.end()) return;
      control(EPOLL_CTL_DEL, fd, 0);
      watched_.erase(found);
      return;
    }
    const std::uint32_t events = ((interest & kReadable) ? EPOLLIN : 0u) | ((interest & kWritable) ? EPOLLOUT : 0u);
    control(found == watched_.end() ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, events);
    watched_[fd] = interest;
  }

  void watch_shared(int fd, bool on) override {
    // EPOLLEXCLUSIVE cannot be modified (EPOLL_CTL_MOD fails): only added and deleted.
    control(on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, fd, on ? (EPOLLIN | EPOLLEXCLUSIVE) : 0u);
  }

  void wait(int timeout_ms, std::vector<Event>& ready) override {
    ready.clear();
    const int n = ::epoll_wait(epoll_.get(), events_.data(), kEventsPerWait, timeout_ms);
    if (n < 0) {
      if (errno == EINTR) return;
      throw net::errno_error("epoll_wait");
    }
    for (int i = 0; i < n; ++i) {
      const auto e = events_[static_cast<std::size_t>(i)].events;
      unsigned got = 0;
      if (e & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) got |= kReadable;
      if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR)) got |= kWritable;
      ready.push_back({events_[static_cast<std::size_t>(i)].data.fd, got});
    }
  }

 private:
  void control(int op, int fd, std::uint32_t events) {
    epoll_event event{};
    event.events = events;
    event.data.fd = fd;
    if (::epoll_ctl(epoll_.get(), op, fd, &event) < 0) throw net::errno_error("epoll_ctl");
  }

  net::Fd epoll_;
  std::unordered_map<int, unsigned> watched_;
  std::vector<epoll_event> events_ = std::vector<epoll_event>(kEventsPerWait);
};

class EpollModel : public EventModel {
 public:
  explicit EpollModel(const ModelOptions& options)
      : threads_(options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency())),
        offload_(options.offload),
        log_(options.log) {}

  std::string_view name() const noexcept override { return "epoll"; }

  void run_all(std::span<const Endpoint> endpoints, const Limits& limits, StopSignal& stop) override {
    ReactorShared shared{endpoints, limits, stop, log_, offload_};
    // Every loop takes its descriptors before any serves: a failure stops the model cleanly.
    std::vector<std::unique_ptr<EventLoop>> loops;
    for (unsigned i = 0; i < threads_; ++i) loops.push_back(std::make_unique<EventLoop>(std::make_unique<EpollPoller>(), shared));
    run_loops(loops, log_, "epoll reactor");
  }

 private:
  unsigned threads_;
  bool offload_;
  ModelLog log_;
};

}  // namespace

std::unique_ptr<Model> make_epoll(const ModelOptions& options) { return std::make_unique<EpollModel>(options); }

}  // namespace sockit::serve::models
