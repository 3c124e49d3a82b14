// Thread per connection (the notes' threaded fib server, CS:APP's echoservert): the accept loop
// starts one thread per connection and goes back to accepting. Threads are joinable and tracked:
// finished ones are joined as the loop goes round, and on stop the model waits for the rest up
// to the grace period, then shuts their sockets down so that every thread ends before run()
// returns (nothing may outlive the service it serves).
#include <atomic>
#include <list>
#include <memory>
#include <system_error>
#include <thread>

#include "serve/models/blocking_acceptor.hpp"
#include "serve/models/blocking_model.hpp"
#include "serve/models/blocking_session.hpp"
#include "serve/models/live_connections.hpp"
#include "serve/models/models.hpp"

namespace sockit::serve::models {
namespace {

using namespace blocking;

constexpr std::chrono::milliseconds kDrainTick{100};

struct Worker {
  std::thread thread;
  std::shared_ptr<std::atomic<bool>> done = std::make_shared<std::atomic<bool>>(false);
};

class ThreadModel : public BlockingModel {
 public:
  explicit ThreadModel(const ModelOptions& options) : log_(options.log), reports_(options.log, options.metrics) {}

  std::string_view name() const noexcept override { return "thread"; }

 protected:
  void serve(const Endpoint& endpoint, const Limits& limits, StopSignal& stop) override {
    const auto log = reports_.for_listener(endpoint.listener, endpoint.service);
    std::list<Worker> workers;
    const auto join_now_and_then = [&] {
      join_finished(workers);
      // With threads running, wake now and then to join the finished ones.
      return workers.empty() ? std::chrono::milliseconds(-1) : std::chrono::milliseconds(500);
    };
    accept_until_stopped(endpoint, stop, log, join_now_and_then, [&](Client client, Ticket ticket) {
      start(workers, std::move(client), std::move(ticket), endpoint.service, limits, stop, log);
    });
    wait_for_drain(stop, kDrainTick, [&] { return live_.size(); }, [&] { join_finished(workers); });
    if (!live_.wait_until_empty(limits.grace_period) && log_)
      log_->notice("grace period over: closing " + std::to_string(live_.shut_down_all()) + " connections");
    for (auto& worker : workers) worker.thread.join();
  }

 private:
  void start(std::list<Worker>& workers, Client client, Ticket ticket, const Service& service, const Limits& limits,
             const StopSignal& stop, ModelLog log) {
    auto connection = std::make_shared<Client>(std::move(client));
    auto place = std::make_shared<Ticket>(std::move(ticket));
    const int fd = connection->socket.fd();
    live_.add(fd);
    Worker worker;
    try {
      worker.thread = std::thread([this, connection, place, fd, done = worker.done, &service, &limits, &stop, log] {
        serve_blocking(connection->socket, connection->peer, service, limits, stop, log);
        live_.remove(fd);
        connection->socket.close();
        *place = Ticket();  // its places are free before the thread is joined
        done->store(true, std::memory_order_release);
      });
    } catch (...) {
      // std::system_error from pthread_create (EAGAIN). Not inspected: under UBSan, reading the
      // exception libstdc++ threw from a failed thread start reports an invalid vptr.
      live_.remove(fd);
      if (log_) log_->notice("closed " + connection->peer + ": the system refused a new thread");
      return;
    }
    workers.push_back(std::move(worker));
  }

  static void join_finished(std::list<Worker>& workers) {
    for (auto it = workers.begin(); it != workers.end();) {
      if (it->done->load(std::memory_order_acquire)) {
        it->thread.join();
        it = workers.erase(it);
      } else {
        ++it;
      }
    }
  }

  Log* log_;
  ModelLog reports_;
  LiveConnections live_;
};

}  // namespace

std::unique_ptr<Model> make_thread(const ModelOptions& options) { return std::make_unique<ThreadModel>(options); }

}  // namespace sockit::serve::models
