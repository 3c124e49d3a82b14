// Pre-threaded server (CS:APP's echoservert_pre, the notes' "pre-threaded pool"): N worker
// threads are started once; the accept loop puts accepted connections in a bounded queue and
// the workers take them out and serve them one at a time each. When the queue is full the loop
// stops accepting, so extra clients wait in the kernel's listen backlog instead of in memory.
#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <vector>

#include "serve/models/blocking_acceptor.hpp"
#include "serve/models/blocking_session.hpp"
#include "serve/models/live_connections.hpp"
#include "serve/models/models.hpp"
#include "serve/models/pool.hpp"

namespace sockit::serve::models {
namespace {

using namespace blocking;

/// CS:APP's sbuf: a bounded FIFO of connections, many producers and consumers.
class ConnectionQueue {
 public:
  explicit ConnectionQueue(std::size_t capacity) : capacity_(capacity) {}

  /// Blocks until there is room or `pause` passes; true if there is room.
  bool wait_for_room(std::chrono::milliseconds pause) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, pause, [&] { return items_.size() < capacity_; });
  }
  void push(Accepted connection) {
    std::lock_guard lock(mutex_);
    items_.push_back(std::move(connection));
    changed_.notify_all();
  }
  /// Blocks for the next connection; nullopt once closed and empty.
  std::optional<Accepted> pop() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !items_.empty() || closed_; });
    if (items_.empty()) return std::nullopt;
    Accepted next = std::move(items_.front());
    items_.pop_front();
    changed_.notify_all();
    return next;
  }
  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    changed_.notify_all();
  }

 private:
  const std::size_t capacity_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Accepted> items_;
  bool closed_ = false;
};

class PoolModel : public Model {
 public:
  explicit PoolModel(const ModelOptions& options)
      : log_(options.log), threads_(options.threads ? options.threads : pool_default_threads()) {}

  std::string_view name() const noexcept override { return "pool"; }

  void run(net::Socket& listener, const Service& service, const Limits& limits, StopSignal& stop) override {
    ConnectionQueue queue(2 * threads_);
    std::vector<std::thread> workers;
    for (unsigned i = 0; i < threads_; ++i) {
      try {
        workers.emplace_back([&] { work(queue, service, limits, stop); });
      } catch (...) {  // std::system_error; not inspected: see thread.cpp
        if (log_) log_->notice("pool: started only " + std::to_string(i) + " of " + std::to_string(threads_) +
                               " workers: the system refused more threads");
        break;
      }
    }
    if (!workers.empty()) accept_loop(listener, queue, limits, stop);
    queue.close();
    if (!live_.wait_until_empty(limits.grace_period) && log_)
      log_->notice("grace period over: closing " + std::to_string(live_.shut_down_all()) + " connections");
    for (auto& worker : workers) worker.join();
  }

 private:
  void accept_loop(const net::Socket& listener, ConnectionQueue& queue, const Limits& limits, const StopSignal& stop) {
    Acceptor acceptor(listener, log_);
    for (;;) {
      // A full queue: leave new clients in the backlog until a worker frees a place.
      while (!queue.wait_for_room(std::chrono::milliseconds(100)))
        if (stop.requested()) return;
      const auto wakeup = wait_for_connection(listener, stop);
      if (wakeup == Wakeup::stop) return;
      if (wakeup == Wakeup::timeout) continue;
      auto accepted = acceptor.accept_one();
      if (!accepted) {
        if (acceptor.starved()) pause_unless_stopped(stop, std::chrono::milliseconds(50));
        continue;
      }
      // Queued and served connections both count against --max-conns.
      if (live_.size() >= limits.max_conns) {
        refuse(std::move(*accepted), limits.max_conns, log_);
        continue;
      }
      live_.add(accepted->socket.fd());
      queue.push(std::move(*accepted));
    }
  }

  void work(ConnectionQueue& queue, const Service& service, const Limits& limits, const StopSignal& stop) {
    while (auto connection = queue.pop()) {
      serve_blocking(connection->socket, connection->peer, service, limits, stop, log_);
      live_.remove(connection->socket.fd());
      connection->socket.close();
    }
  }

  Log* log_;
  unsigned threads_;
  LiveConnections live_;
};

}  // namespace

unsigned pool_default_threads() noexcept { return std::max(4u, 4 * std::thread::hardware_concurrency()); }

std::unique_ptr<Model> make_pool(const ModelOptions& options) { return std::make_unique<PoolModel>(options); }

}  // namespace sockit::serve::models
