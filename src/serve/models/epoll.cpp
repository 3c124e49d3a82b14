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
#include <algorithm>
#include <thread>
#include <unordered_map>
#include <vector>

#include "net/epoll.hpp"
#include "serve/models/models.hpp"
#include "serve/models/reactor.hpp"

namespace sockit::serve::models {
namespace {

constexpr int kEventsPerWait = 256;

class EpollPoller : public Poller {
 public:
  EpollPoller() : epoll_(net::Epoll::create(kEventsPerWait).value()) {}

  void watch(int fd, unsigned interest) override {
    const auto found = watched_.find(fd);
    if (interest == 0) {
      if (found == watched_.end()) return;
      epoll_.remove(fd).value();
      watched_.erase(found);
      return;
    }
    const std::uint32_t events = ((interest & kReadable) ? EPOLLIN : 0u) | ((interest & kWritable) ? EPOLLOUT : 0u);
    const auto tag = static_cast<std::uint64_t>(fd);
    (found == watched_.end() ? epoll_.add(fd, events, tag) : epoll_.modify(fd, events, tag)).value();
    watched_[fd] = interest;
  }

  void watch_shared(int fd, bool on) override {
    // EPOLLEXCLUSIVE cannot be modified (EPOLL_CTL_MOD fails): only added and removed.
    (on ? epoll_.add(fd, EPOLLIN | EPOLLEXCLUSIVE, static_cast<std::uint64_t>(fd)) : epoll_.remove(fd)).value();
  }

  void wait(int timeout_ms, std::vector<Event>& ready) override {
    ready.clear();
    for (const auto& event : epoll_.wait(timeout_ms).value()) {
      const auto e = event.events;
      unsigned got = 0;
      if (e & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) got |= kReadable;
      if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR)) got |= kWritable;
      ready.push_back({static_cast<int>(event.data.u64), got});
    }
  }

 private:
  net::Epoll epoll_;
  std::unordered_map<int, unsigned> watched_;
};

class EpollModel : public EventModel {
 public:
  explicit EpollModel(const ModelOptions& options)
      : threads_(options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency())),
        offload_(options.offload),
        log_(options.log, options.metrics) {}

  std::string_view name() const noexcept override { return "epoll"; }

 protected:
  void serve_all(std::span<const Endpoint> endpoints, const Limits& limits, StopSignal& stop) override {
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
