#pragma once

#include <fmt/core.h>

#include <atomic>
#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "net/sigpipe_block.hpp"
#include "net/socket.hpp"
#include "serve/model.hpp"
#include "serve/models/acceptor.hpp"
#include "serve/models/connection.hpp"
#include "serve/models/offload.hpp"

namespace sockit::serve::models {

/// How one readiness API (select, poll, epoll) is asked "which descriptors are ready?". Level-
/// triggered: a descriptor stays reported while it is ready. Interest 0 means not watched at
/// all (a hang-up on it is not reported either, so nothing spins while a connection waits for
/// a worker). Used by one thread.
class Poller {
 public:
  static constexpr unsigned kReadable = 1;
  static constexpr unsigned kWritable = 2;

  struct Event {
    int fd;
    unsigned ready;  ///< kReadable/kWritable; errors and hang-ups show as both
  };

  virtual ~Poller() = default;
  /// False when this API cannot watch `fd` at all (select: fd >= FD_SETSIZE).
  virtual bool can_watch(int fd) const noexcept {
    (void)fd;
    return true;
  }
  /// Sets what `fd` is watched for (0: stop watching it). Throws net::Error when the kernel
  /// refuses (epoll_ctl), which ends the model.
  virtual void watch(int fd, unsigned interest) = 0;
  /// A descriptor every loop of the model watches for readable (the listener); epoll adds it
  /// with EPOLLEXCLUSIVE so that one client wakes one loop.
  virtual void watch_shared(int fd, bool on) { watch(fd, on ? kReadable : 0); }
  /// Blocks for at most `timeout_ms` (-1: until something is ready); EINTR returns no events.
  virtual void wait(int timeout_ms, std::vector<Event>& ready) = 0;
};

/// What every loop of one model run shares.
struct ReactorShared {
  std::span<const Endpoint> endpoints;  ///< every loop accepts on every listener; each has its Admission
  const Limits& limits;
  StopSignal& stop;
  ModelLog log;
  bool offload;                      ///< ModelOptions::offload
  DescriptorSpell out_of_descriptors{};  ///< EMFILE logged once for all loops
  WorkerPool workers{};              ///< CPU-bound sessions run here
};

class Reactor;

/// One event loop (the Redis ae.c shape: one loop over whichever poller) accepting on the
/// shared non-blocking listeners and serving the connections it accepted. Several loops may
/// share one ReactorShared (epoll's reactors), each with its own poller, each on its own thread.
class EventLoop {
 public:
  /// Takes every descriptor it needs now (so a model fails before serving anyone, not half-way
  /// up) and makes the listeners non-blocking. Throws net::Error.
  EventLoop(std::unique_ptr<Poller> poller, ReactorShared& shared);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  /// Blocks until stop fires and this loop's connections are done or Limits::grace_period has
  /// passed (a CPU-bound job already on a worker is waited for: threads can't be interrupted),
  /// or until a drain and its connections have ended by themselves. Returns with every
  /// connection closed. Call once, from one thread.
  void run();

 private:
  std::unique_ptr<Poller> poller_;
  std::unique_ptr<Reactor> reactor_;
};

/// Select, poll, epoll and uring serve any number of endpoints from the same loops.
class EventModel : public Model {
 public:
  void run_all(std::span<const Endpoint> endpoints, const Limits& limits, StopSignal& stop) final {
    const AdmittedEndpoints admitted(endpoints, limits);
    serve_all(admitted.all(), limits, stop);
  }

 protected:
  /// run_all() with every endpoint's Admission set.
  virtual void serve_all(std::span<const Endpoint> endpoints, const Limits& limits, StopSignal& stop) = 0;
};

/// One endpoint as one loop sees it: its own acceptor on the listener, whether the service
/// produces output unasked (chargen), the log its connections' lines go to and their limits,
/// and whether its listener listens still (a reload may shut it down: Acceptor::Outcome::closed).
struct Door {
  const Endpoint& endpoint;
  Acceptor acceptor;
  bool producer;
  ModelLog log;
  const Limits& limits;
  bool closed = false;
};
/// A loop's doors, one per endpoint of `shared`, in the same order. Throws net::Error.
std::vector<Door> open_doors(ReactorShared& shared);

/// A new session of `service` for a client of an event loop.
std::unique_ptr<Session> open_session(const Service& service, const Limits& limits, const std::string& peer);

/// Makes every listener non-blocking: accept4() on a shared listener must never block, as
/// another loop may have taken the client. Throws net::Error.
void make_nonblocking(std::span<const Endpoint> endpoints);

/// Runs every loop's run() on a thread of its own (loop 0 on the caller's), waits for all of
/// them, then rethrows the first failure. A failing loop is logged as "`what` N stopped: ...";
/// the others go on until the stop signal. Blocks.
template <typename Loop>
void run_loops(std::vector<std::unique_ptr<Loop>>& loops, ModelLog log, std::string_view what) {
  std::vector<std::exception_ptr> failures(loops.size());
  auto body = [&](std::size_t index) {
    const net::SigpipeBlock no_sigpipe;  // file ranges leave with sendfile(), which may raise it
    try {
      loops[index]->run();
    } catch (const std::exception& e) {
      log.notice(fmt::format("{} {} stopped: {}", what, index, e.what()));
      failures[index] = std::current_exception();
    }
  };
  std::vector<std::thread> others;
  for (std::size_t i = 1; i < loops.size(); ++i) others.emplace_back(body, i);
  body(0);
  for (auto& thread : others) thread.join();
  for (const auto& failure : failures)
    if (failure) std::rethrow_exception(failure);
}

}  // namespace sockit::serve::models
