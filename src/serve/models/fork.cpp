// Process per connection (the notes' forked fib server, CS:APP's echoserverp): after accept the
// server forks; the child closes the listener, serves the one connection and leaves with
// _exit(); the parent closes the connected socket and goes back to accepting.
//
// Reaping without touching process-wide signal state: a SIGCHLD handler (or SIG_IGN, as the
// notes do) belongs to the whole process, and the library never changes signal dispositions. So
// the parent remembers its children's pids and reaps exactly those with waitpid(pid, WNOHANG)
// each time round the accept loop; while children are alive the loop polls the listener and the
// stop signal with a 50 ms timeout, so a finished child is a zombie for at most that long.
// waitpid(-1) is avoided on purpose: it would steal the children of other parts of the process.
//
// Admission happens in the parent, before the fork: the ticket (its place in --max-conns, in its
// source's count) stays with the parent until the child is reaped. On stop the parent stops
// accepting; the children see the same stop eventfd (inherited) and close their connections
// once idle. After the grace period the rest get SIGTERM, then SIGKILL, and every child is
// reaped before run() returns. On drain the parent stops accepting and waits for its children
// to end by themselves (or for stop).
//
// Caveat of fork() in a threaded process: the child has only the forking thread, so a lock
// another thread held at that moment stays locked in the child for good. `sockit serve` runs one
// accept thread per listener, all logging: the fork holds the Log's lock (Log::hold_for_fork),
// so no child starts with it taken. glibc makes malloc and stdio safe across fork the same way.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "net/error.hpp"
#include "serve/models/blocking_acceptor.hpp"
#include "serve/models/blocking_model.hpp"
#include "serve/models/blocking_session.hpp"
#include "serve/models/models.hpp"

namespace sockit::serve::models {
namespace {

using namespace blocking;

constexpr std::chrono::milliseconds kReapTick{50};

class ForkModel : public BlockingModel {
 public:
  explicit ForkModel(const ModelOptions& options) : log_(options.log), reports_(options.log, options.metrics) {}

  std::string_view name() const noexcept override { return "fork"; }

 protected:
  void serve(const Endpoint& endpoint, const Limits& limits, StopSignal& stop) override {
    const auto log = reports_.for_listener(endpoint.listener, endpoint.service);
    auto reaped_wait = [&] {
      reap();
      return alive() == 0 ? std::chrono::milliseconds(-1) : kReapTick;
    };
    accept_until_stopped(endpoint, stop, log, reaped_wait, [&](Client client, Ticket ticket) {
      reap();
      // Forked and recorded under one lock: reap() cannot look for a child not yet recorded.
      std::lock_guard children(children_mutex_);
      spawn(endpoint, std::move(client), std::move(ticket), limits, stop, log);
    });
    wait_for_drain(stop, kReapTick, [&] { return alive(); }, [&] { reap(); });
    finish(limits.grace_period);
  }

 private:
  // Called with children_mutex_ held (the child never takes it).
  void spawn(const Endpoint& endpoint, Client client, Ticket ticket, const Limits& limits, const StopSignal& stop,
             const ModelLog& log) {
    const pid_t parent = ::getpid();
    std::unique_lock<std::mutex> log_held;
    if (log_) log_held = log_->hold_for_fork();
    const pid_t pid = ::fork();
    if (log_held) log_held.unlock();
    if (pid < 0) {
      if (log_) log_->notice("closed " + client.peer + ": " + net::errno_error("fork").what());
      return;  // `client` closes as it goes out of scope
    }
    if (pid == 0) {
      // The child: dies with the parent rather than outliving it with a client.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);
      endpoint.listener.close();  // this process's copy only
      // A session that throws ends here too: serve_blocking logs it and returns.
      serve_blocking(client.socket, client.peer, endpoint.service, limits, stop, log);
      client.socket.close();
      // _exit: no atexit handlers, no static destructors, no flushing stdio the parent owns.
      ::_exit(0);
    }
    children_.emplace(pid, std::move(ticket));
    // `client` closes here: the parent must not keep the client's socket open.
  }

  std::size_t alive() {
    std::lock_guard lock(children_mutex_);
    return children_.size();
  }

  // Reaps every child of ours that has exited; never blocks.
  void reap() {
    std::lock_guard lock(children_mutex_);
    for (auto it = children_.begin(); it != children_.end();) {
      int status = 0;
      const pid_t r = ::waitpid(it->first, &status, WNOHANG);
      if (r == it->first || (r < 0 && errno == ECHILD))
        it = children_.erase(it);
      else
        ++it;
    }
  }

  // After stop: waits for the children up to `grace`, then SIGTERM, then SIGKILL; reaps all.
  void finish(std::chrono::milliseconds grace) {
    const auto deadline = std::chrono::steady_clock::now() + grace;
    for (reap(); alive() > 0 && std::chrono::steady_clock::now() < deadline; reap())
      pause(kReapTick / 5);
    if (alive() == 0) return;
    std::unique_lock lock(children_mutex_);
    if (log_) log_->notice("grace period over: stopping " + std::to_string(children_.size()) + " children");
    for (const auto& [pid, ticket] : children_) ::kill(pid, SIGTERM);
    lock.unlock();
    const auto term_deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
    for (reap(); alive() > 0 && std::chrono::steady_clock::now() < term_deadline; reap())
      pause(kReapTick / 5);
    lock.lock();
    for (const auto& [pid, ticket] : children_) {
      ::kill(pid, SIGKILL);
      int status = 0;
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
    children_.clear();
  }

  static void pause(std::chrono::milliseconds how_long) {
    timespec ts{0, static_cast<long>(std::chrono::nanoseconds(how_long).count())};
    while (::nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
  }

  Log* log_;
  ModelLog reports_;  // counters in shared memory: the children count where the parent reads
  std::mutex children_mutex_;  // run_all() runs one serve() per endpoint on this model
  std::unordered_map<pid_t, Ticket> children_;  // each with its place, given back when reaped
};

}  // namespace

std::unique_ptr<Model> make_fork(const ModelOptions& options) { return std::make_unique<ForkModel>(options); }

}  // namespace sockit::serve::models
