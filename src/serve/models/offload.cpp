#include "serve/models/offload.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "net/error.hpp"

namespace sockit::serve::models {
namespace {

// Workers run at a lower priority than the loops: when both want the same core, a loop woken
// by a client preempts a computation at once instead of waiting for its turn, so offloaded work
// cannot delay the answers the loops owe everyone else.
constexpr int kWorkerNice = 10;

}  // namespace

Completions::Completions() : event_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (!event_) throw net::errno_error("eventfd");
}

void Completions::push(std::uint64_t tag) {
  // The wake-up is written under the lock too: the loop takes the tag under that lock, so once it
  // has the tag this worker touches nothing here any more, and the loop may finish the
  // connection and end, taking these Completions with it. (Written after unlocking, the eventfd
  // could be gone by then.)
  std::lock_guard lock(mutex_);
  done_.push_back(tag);
  const std::uint64_t one = 1;
  // Cannot fail short of a counter overflow (2^64 - 1 pending wake-ups).
  [[maybe_unused]] auto n = ::write(event_.get(), &one, sizeof(one));
}

std::vector<std::uint64_t> Completions::take() {
  std::uint64_t count = 0;
  // Non-blocking: EAGAIN just means a previous take() already consumed this wake-up.
  [[maybe_unused]] auto n = ::read(event_.get(), &count, sizeof(count));
  std::vector<std::uint64_t> tags;
  std::lock_guard lock(mutex_);
  tags.swap(done_);
  return tags;
}

void Completions::wait() const {
  pollfd ready{event_.get(), POLLIN, 0};
  while (::poll(&ready, 1, -1) < 0 && errno == EINTR) {
  }
}

WorkerPool::WorkerPool(unsigned threads) noexcept
    : threads_(threads ? threads : std::max(2u, std::thread::hardware_concurrency())) {}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_all();
  for (auto& worker : workers_) worker.join();
}

void WorkerPool::submit(std::function<void()> job) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
    if (workers_.empty())
      for (unsigned i = 0; i < threads_; ++i) workers_.emplace_back([this] { work(); });
  }
  ready_.notify_one();
}

void WorkerPool::offload(Connection& connection, Completions& completions, std::uint64_t tag) {
  connection.begin_offload();
  submit([&connection, &completions, tag] {
    connection.run_offloaded();
    completions.push(tag);
  });
}

void WorkerPool::work() {
  // Linux gives each thread its own nice value (setpriority on a thread id). Lowering one's own
  // priority needs no privilege; should it fail anyway, the worker runs at the loop's priority.
  (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), kWorkerNice);
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, and nothing left to do
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

}  // namespace sockit::serve::models
