// Pre-threaded server (the notes' "pre-threaded pool", CS:APP's echoservert_pre): N worker
// threads are started once and each serves one connection at a time. CS:APP's main thread
// accepts and hands each connection to the workers through a bounded buffer (sbuf); here every
// worker accepts for itself, as in UNP's "each thread calls accept": the kernel wakes one thread
// blocked in accept() per arriving client, so a connection costs no hand-off between threads,
// no lock and no second wake-up. When every worker is busy nobody accepts, and new clients wait
// in the kernel's listen backlog rather than in memory.
//
// A worker asleep in accept() must still notice stop: the listener gets a receive timeout
// (SO_RCVTIMEO bounds accept() too), so each worker looks at the stop signal that often. On
// drain each worker stops accepting once its connection is done, and the run returns when all
// have.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "net/options.hpp"
#include "serve/models/blocking_acceptor.hpp"
#include "serve/models/blocking_model.hpp"
#include "serve/models/blocking_session.hpp"
#include "serve/models/live_connections.hpp"
#include "serve/models/models.hpp"
#include "serve/models/pool.hpp"

namespace sockit::serve::models {
namespace {

using namespace blocking;

constexpr std::chrono::milliseconds kStopCheck{100};

class PoolModel : public BlockingModel {
 public:
  explicit PoolModel(const ModelOptions& options)
      : log_(options.log),
        reports_(options.log, options.metrics),
        threads_(options.threads ? options.threads : pool_default_threads()) {}

  std::string_view name() const noexcept override { return "pool"; }

 protected:
  void serve(const Endpoint& endpoint, const Limits& limits, StopSignal& stop) override {
    // Workers sleep in accept() itself, waking at least every kStopCheck to look at stop.
    (void)net::set_nonblocking(endpoint.listener.fd(), false);
    if (auto timeout = net::set_receive_timeout(endpoint.listener.fd(), kStopCheck); !timeout && log_)
      log_->notice("pool: workers will notice stop only with the next client: " + std::string(timeout.error().what()));
    DescriptorSpell spell;
    std::atomic<unsigned> accepting{0};  // workers still in their accept loop
    std::vector<std::thread> workers;
    for (unsigned i = 0; i < threads_; ++i) {
      try {
        accepting.fetch_add(1);
        workers.emplace_back([&] {
          work(endpoint, limits, stop, spell);
          accepting.fetch_sub(1);
        });
      } catch (...) {  // std::system_error; not inspected: see thread.cpp
        accepting.fetch_sub(1);
        if (log_) log_->notice("pool: started only " + std::to_string(i) + " of " + std::to_string(threads_) +
                               " workers: the system refused more threads");
        break;
      }
    }
    // Until stop, or a drain that every worker has seen through (its connection done).
    while (!workers.empty() && !pause_unless_stopped(stop, kStopCheck))
      if (stop.draining() && accepting.load() == 0) break;
    if (!live_.wait_until_empty(limits.grace_period) && log_)
      log_->notice("grace period over: closing " + std::to_string(live_.shut_down_all()) + " connections");
    for (auto& worker : workers) worker.join();
  }

 private:
  void work(const Endpoint& endpoint, const Limits& limits, const StopSignal& stop, DescriptorSpell& spell) {
    const auto log = reports_.for_listener(endpoint.listener, endpoint.service);
    Acceptor acceptor(endpoint, spell, log);
    for (;;) {
      Client client;
      Acceptor::Outcome outcome;
      {
        const StopSignal::Accepting accepting(stop);  // may take a client until the accept is over
        if (stop.draining()) return;
        outcome = acceptor.accept_one(client);
      }
      if (outcome == Acceptor::Outcome::closed) return;
      if (outcome == Acceptor::Outcome::paused) pause_unless_stopped(stop, kAcceptPause);
      if (outcome != Acceptor::Outcome::accepted) continue;
      const auto ticket = admit(client, endpoint, log);
      if (!ticket) continue;
      const int fd = client.socket.fd();
      live_.add(fd);
      serve_blocking(client.socket, client.peer, endpoint.service, limits, stop, log);
      live_.remove(fd);
      client.socket.close();
    }
  }

  Log* log_;
  ModelLog reports_;
  unsigned threads_;
  LiveConnections live_;
};

}  // namespace

unsigned pool_default_threads() noexcept { return std::max(4u, 4 * std::thread::hardware_concurrency()); }

std::unique_ptr<Model> make_pool(const ModelOptions& options) { return std::make_unique<PoolModel>(options); }

}  // namespace sockit::serve::models
