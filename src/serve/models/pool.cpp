// Pre-threaded server (the notes' "pre-threaded pool", CS:APP's echoservert_pre): N worker
// threads are started once and each serves one connection at a time. CS:APP's main thread
// accepts and hands each connection to the workers through a bounded buffer (sbuf); here every
// worker accepts for itself, as in UNP's "each thread calls accept": the kernel wakes one thread
// blocked in accept() per arriving client, so a connection costs no hand-off between threads,
// no lock and no second wake-up. When every worker is busy nobody accepts, and new clients wait
// in the kernel's listen backlog rather than in memory.
//
// A worker asleep in accept() must still notice stop: the listener gets a receive timeout
// (SO_RCVTIMEO bounds accept() too), so each worker looks at the stop signal that often.
#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "net/options.hpp"
#include "serve/models/blocking_acceptor.hpp"
#include "serve/models/blocking_session.hpp"
#include "serve/models/live_connections.hpp"
#include "serve/models/models.hpp"
#include "serve/models/pool.hpp"

namespace sockit::serve::models {
namespace {

using namespace blocking;

constexpr std::chrono::milliseconds kStopCheck{100};

class PoolModel : public Model {
 public:
  explicit PoolModel(const ModelOptions& options)
      : log_(options.log), threads_(options.threads ? options.threads : pool_default_threads()) {}

  std::string_view name() const noexcept override { return "pool"; }

  void run(net::Socket& listener, const Service& service, const Limits& limits, StopSignal& stop) override {
    // Workers sleep in accept() itself, waking at least every kStopCheck to look at stop.
    (void)net::set_nonblocking(listener.fd(), false);
    if (auto timeout = net::set_receive_timeout(listener.fd(), kStopCheck); !timeout && log_)
      log_->notice("pool: workers will notice stop only with the next client: " + std::string(timeout.error().what()));
    DescriptorSpell spell;
    std::vector<std::thread> workers;
    for (unsigned i = 0; i < threads_; ++i) {
      try {
        workers.emplace_back([&] { work(listener, service, limits, stop, spell); });
      } catch (...) {  // std::system_error; not inspected: see thread.cpp
        if (log_) log_->notice("pool: started only " + std::to_string(i) + " of " + std::to_string(threads_) +
                               " workers: the system refused more threads");
        break;
      }
    }
    if (!workers.empty()) pause_unless_stopped(stop, std::chrono::milliseconds(-1));
    if (!live_.wait_until_empty(limits.grace_period) && log_)
      log_->notice("grace period over: closing " + std::to_string(live_.shut_down_all()) + " connections");
    for (auto& worker : workers) worker.join();
  }

 private:
  void work(const net::Socket& listener, const Service& service, const Limits& limits, const StopSignal& stop,
            DescriptorSpell& spell) {
    Acceptor acceptor(listener, spell, ModelLog(log_));
    const auto log = ModelLog(log_).for_listener(listener, service);
    while (!stop.requested()) {
      Client client;
      const auto outcome = acceptor.accept_one(client);
      if (outcome == Acceptor::Outcome::paused) pause_unless_stopped(stop, kAcceptPause);
      if (outcome != Acceptor::Outcome::accepted) continue;
      const int fd = client.socket.fd();
      if (!live_.try_add(fd, limits.max_conns)) {
        refuse(std::move(client), limits.max_conns, log);
        continue;
      }
      serve_blocking(client.socket, client.peer, service, limits, stop, log);
      live_.remove(fd);
      client.socket.close();
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
