// The poll() model: one loop over a pollfd vector. Unlike select there is no descriptor limit,
// but every call still hands the kernel the whole vector: O(connections) per wake-up.
#include <poll.h>

#include <cerrno>
#include <unordered_map>
#include <vector>

#include "net/error.hpp"
#include "serve/models/models.hpp"
#include "serve/models/reactor.hpp"

namespace sockit::serve::models {
namespace {

class PollPoller : public Poller {
 public:
  void watch(int fd, unsigned interest) override {
    const auto found = index_.find(fd);
    if (interest == 0) {
      if (found == index_.end()) return;
      // Swap with the last entry: removal stays O(1).
      const std::size_t slot = found->second;
      fds_[slot] = fds_.back();
      index_[fds_[slot].fd] = slot;
      fds_.pop_back();
      index_.erase(fd);
      return;
    }
    const short events = static_cast<short>(((interest & kReadable) ? POLLIN : 0) | ((interest & kWritable) ? POLLOUT : 0));
    if (found == index_.end()) {
      index_[fd] = fds_.size();
      fds_.push_back({fd, events, 0});
    } else {
      fds_[found->second].events = events;
    }
  }

  void wait(int timeout_ms, std::vector<Event>& ready) override {
    ready.clear();
    const int n = ::poll(fds_.data(), fds_.size(), timeout_ms);
    if (n < 0) {
      if (errno == EINTR) return;
      throw net::errno_error("poll");
    }
    for (const auto& p : fds_) {
      if (static_cast<int>(ready.size()) == n) break;
      if (p.revents == 0) continue;
      unsigned got = 0;
      if (p.revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) got |= kReadable;
      if (p.revents & (POLLOUT | POLLHUP | POLLERR | POLLNVAL)) got |= kWritable;
      ready.push_back({p.fd, got});
    }
  }

 private:
  std::vector<pollfd> fds_;
  std::unordered_map<int, std::size_t> index_;
};

class PollModel : public EventModel {
 public:
  explicit PollModel(const ModelOptions& options)
      : offload_(options.offload), log_(options.log, options.metrics) {}
  std::string_view name() const noexcept override { return "poll"; }

 protected:
  void serve_all(std::span<const Endpoint> endpoints, const Limits& limits, StopSignal& stop) override {
    ReactorShared shared{endpoints, limits, stop, log_, offload_};
    EventLoop(std::make_unique<PollPoller>(), shared).run();
  }

 private:
  bool offload_;
  ModelLog log_;
};

}  // namespace

std::unique_ptr<Model> make_poll(const ModelOptions& options) { return std::make_unique<PollModel>(options); }

}  // namespace sockit::serve::models
