#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "net/fd.hpp"
#include "serve/models/connection.hpp"

namespace sockit::serve::models {

/// Results of offloaded jobs on their way back to one event loop: a worker push()es the job's
/// tag and the eventfd becomes readable; the loop take()s the tags. Thread-safe.
class Completions {
 public:
  /// Throws net::Error if no eventfd can be made.
  Completions();
  /// Poll this for readable next to the sockets.
  int fd() const noexcept { return event_.get(); }
  /// Any thread.
  void push(std::uint64_t tag);
  /// The loop's thread: every tag pushed so far (the eventfd is read back to zero).
  std::vector<std::uint64_t> take();
  /// Blocks until a tag is pushed (for a loop that must wait for its jobs before it goes).
  void wait() const;

 private:
  net::Fd event_;
  std::mutex mutex_;
  std::vector<std::uint64_t> done_;
};

/// Worker threads for CPU-bound sessions (recursive fib), so that an event loop never computes.
/// The threads start on the first submit(); a model serving echo never has any. Thread-safe.
class WorkerPool {
 public:
  /// 0 threads: one per core, at least two.
  explicit WorkerPool(unsigned threads = 0) noexcept;
  /// Blocks: lets the workers finish every job already submitted, then joins them.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void submit(std::function<void()> job);

  /// Loop thread: hands `connection`'s queued input to a worker; its tag comes back through
  /// `completions`, after which the loop calls connection.end_offload(). The connection must
  /// outlive the job (loops never destroy a busy() connection).
  void offload(Connection& connection, Completions& completions, std::uint64_t tag);

 private:
  void work();

  unsigned threads_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace sockit::serve::models
