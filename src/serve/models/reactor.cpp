#include "serve/models/reactor.hpp"

#include <fmt/core.h>
#include <sys/select.h>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <list>
#include <optional>
#include <vector>

#include "serve/connection_log.hpp"
#include "serve/models/acceptor.hpp"
#include "serve/models/connection_table.hpp"

namespace sockit::serve::models {
namespace {

using Clock = Connection::Clock;
using std::chrono::milliseconds;

constexpr std::size_t kScratchBytes = 64 * 1024;
constexpr int kAcceptsPerEvent = 64;

}  // namespace

class Reactor {
 public:
  Reactor(Poller& poller, ReactorShared& shared)
      : poller_(poller),
        shared_(shared),
        doors_(open_doors(shared)),
        scratch_(kScratchBytes),
        entries_(shared.limits),
        accepting_(shared.stop) {}
  /// Only when run() threw: a connection on a worker must outlive its job.
  ~Reactor() {
    while (entries_.any_busy()) {
      completions_.wait();
      for (const auto tag : completions_.take())
        if (const auto it = entry_of(static_cast<int>(tag)); it != entries_.end()) it->connection.end_offload();
    }
  }
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;

  void run();

 private:
  struct Entry {
    template <typename... Args>
    explicit Entry(Args&&... args) : connection(std::forward<Args>(args)...) {}
    Connection connection;
    unsigned interest = 0;
  };
  using Entries = ConnectionTable<Entry>;

  Door* door_of(int fd);
  void accept_clients(Door& door);
  Entries::Iterator entry_of(int fd);
  void serve(Entries::Iterator it, unsigned ready, Clock::time_point now);
  void finish_jobs(Clock::time_point now);
  void settle(Entries::Iterator it);
  void close(Entries::Iterator it);
  void watch_listener(bool on);
  int timeout_ms(Clock::time_point now) const;

  Poller& poller_;
  ReactorShared& shared_;
  std::vector<Door> doors_;
  Completions completions_;
  std::vector<std::byte> scratch_;  // every read lands here first; sessions keep what they need
  Entries entries_;
  std::vector<Entries::Iterator> by_fd_;  // indexed by descriptor; entries_.end() where none
  bool listening_ = true;
  bool stopping_ = false;  // stop was requested (not only a drain): the grace period runs
  bool listener_watched_ = false;
  StopSignal::Accepting accepting_;  // until listening_ ends
  Clock::time_point resume_accepting_{};
};

void Reactor::run() {
  auto& stop = shared_.stop;
  poller_.watch(stop.drain_fd(), Poller::kReadable);
  poller_.watch(completions_.fd(), Poller::kReadable);
  std::vector<Poller::Event> events;
  for (;;) {
    const auto now = Clock::now();
    if (listening_ && stop.draining()) {
      // Stop accepting; the kernel may still queue handshakes, but nobody here takes them.
      listening_ = false;
      watch_listener(false);
      accepting_.release();
      poller_.watch(stop.drain_fd(), 0);  // it stays readable for good: stop watching it
      if (!stop.requested()) poller_.watch(stop.fd(), Poller::kReadable);  // a drain may become a stop
    }
    if (!stopping_ && stop.requested()) {
      stopping_ = true;
      poller_.watch(stop.fd(), 0);
      entries_.start_grace(now);
    }
    if (!listening_) {
      entries_.end_grace(now, [&](Entries::Iterator it) {
        if (it->connection.busy())
          it->connection.fail();  // its worker cannot be interrupted: close when it comes back
        else
          close(it);
      });
      if (entries_.empty()) return;
    }
    if (listening_ && !listener_watched_ && now >= resume_accepting_) watch_listener(true);

    poller_.wait(timeout_ms(now), events);
    const auto woke = Clock::now();
    for (const auto& event : events) {
      if (const auto it = entry_of(event.fd); it != entries_.end()) {
        serve(it, event.ready, woke);
      } else if (event.fd == completions_.fd()) {
        finish_jobs(woke);
      } else if (auto* door = door_of(event.fd)) {
        if (listening_) accept_clients(*door);
      }
    }
    entries_.expire_idle(woke, [&](Entries::Iterator it) {
      close(it);
      return true;
    });
    entries_.expire_deadlines(woke, [&](Entries::Iterator it) {
      if (it->connection.wants_output()) it->connection.write_ready();
      settle(it);
    });
  }
}

void Reactor::watch_listener(bool on) {
  if (on == listener_watched_) return;
  for (const auto& door : doors_)
    if (!door.closed) poller_.watch_shared(door.endpoint.listener.fd(), on);
  listener_watched_ = on;
}

Door* Reactor::door_of(int fd) {
  for (auto& door : doors_)
    if (door.endpoint.listener.fd() == fd) return &door;
  return nullptr;
}

void Reactor::accept_clients(Door& door) {
  for (int i = 0; i < kAcceptsPerEvent; ++i) {
    Client client;
    switch (door.acceptor.accept_one(client)) {
      case Acceptor::Outcome::drained:
        return;
      case Acceptor::Outcome::again:
        continue;
      case Acceptor::Outcome::paused:
        watch_listener(false);
        resume_accepting_ = Clock::now() + kAcceptPause;
        return;
      case Acceptor::Outcome::closed:
        if (listener_watched_) poller_.watch_shared(door.endpoint.listener.fd(), false);
        door.closed = true;
        return;
      case Acceptor::Outcome::accepted:
        break;
    }
    const int fd = client.socket.fd();
    if (!poller_.can_watch(fd)) {
      turn_away(client, door.endpoint.service,
                Refused{ConnectionRefusal::out_of_descriptors,
                        fmt::format("descriptor {} is beyond what select can watch (FD_SETSIZE {})", fd, FD_SETSIZE),
                        {}},
                door.log);
      continue;
    }
    auto ticket = admit(client, door.endpoint, door.log);
    if (!ticket) continue;
    auto session = open_session(door.endpoint.service, door.limits, client.peer);
    const auto it = entries_.add(std::move(client.socket), std::move(client.peer), std::move(session),
                                 door.limits, door.producer, shared_.offload, door.log, std::move(*ticket));
    if (static_cast<std::size_t>(fd) >= by_fd_.size()) by_fd_.resize(static_cast<std::size_t>(fd) + 1, entries_.end());
    by_fd_[static_cast<std::size_t>(fd)] = it;
    it->connection.open();
    if (it->connection.wants_output()) it->connection.write_ready();
    settle(it);
  }
}

Reactor::Entries::Iterator Reactor::entry_of(int fd) {
  const auto index = static_cast<std::size_t>(fd);
  return index < by_fd_.size() ? by_fd_[index] : entries_.end();
}

void Reactor::serve(Entries::Iterator it, unsigned ready, Clock::time_point now) {
  auto& connection = it->connection;
  entries_.touch(it, now);
  if ((ready & Poller::kReadable) && (it->interest & Poller::kReadable)) connection.read_ready(scratch_);
  // Write at once rather than after another wait: echo answers in the same turn.
  if (connection.wants_output()) connection.write_ready();
  settle(it);
}

void Reactor::finish_jobs(Clock::time_point now) {
  for (const auto tag : completions_.take()) {
    const auto it = entry_of(static_cast<int>(tag));
    if (it == entries_.end()) continue;
    it->connection.end_offload();
    entries_.touch(it, now);
    if (it->connection.wants_output()) it->connection.write_ready();
    settle(it);
  }
}

void Reactor::settle(Entries::Iterator it) {
  auto& connection = it->connection;
  // The tag is the descriptor: a busy connection is never closed, so it cannot be reused.
  if (connection.offload_ready())
    shared_.workers.offload(connection, completions_, static_cast<std::uint64_t>(connection.fd()));
  if (connection.finished()) {
    close(it);
    return;
  }
  entries_.watch_deadline(it);
  const unsigned wanted =
      (connection.wants_input() ? Poller::kReadable : 0u) | (connection.wants_output() ? Poller::kWritable : 0u);
  if (wanted != it->interest) {
    poller_.watch(connection.fd(), wanted);
    it->interest = wanted;
  }
}

void Reactor::close(Entries::Iterator it) {
  const int fd = it->connection.fd();
  if (it->interest) poller_.watch(fd, 0);
  by_fd_[static_cast<std::size_t>(fd)] = entries_.end();
  entries_.erase(it);  // closes the socket, logs "closed ..."
}

int Reactor::timeout_ms(Clock::time_point now) const {
  auto next = entries_.next_deadline();
  if (listening_ && !listener_watched_ && (!next || resume_accepting_ < *next)) next = resume_accepting_;
  if (!next) return -1;
  if (*next <= now) return 0;
  const auto left = std::chrono::ceil<milliseconds>(*next - now).count();
  return static_cast<int>(std::min<decltype(left)>(left, 60'000));
}

std::unique_ptr<Session> open_session(const Service& service, const Limits& limits, const std::string& peer) {
  SessionContext context;
  context.max_line = limits.max_line;
  context.peer = peer;
  return service.new_session(context);
}

std::vector<Door> open_doors(ReactorShared& shared) {
  std::vector<Door> doors;
  doors.reserve(shared.endpoints.size());
  for (const auto& endpoint : shared.endpoints) {
    const auto log = shared.log.for_listener(endpoint.listener, endpoint.service);
    doors.push_back({endpoint, Acceptor(endpoint, shared.out_of_descriptors, log),
                     endpoint.service.produces_without_input(), log, endpoint.limits_or(shared.limits)});
  }
  return doors;
}

void make_nonblocking(std::span<const Endpoint> endpoints) {
  for (const auto& endpoint : endpoints) endpoint.listener.set_nonblocking(true).value();
}

EventLoop::EventLoop(std::unique_ptr<Poller> poller, ReactorShared& shared) : poller_(std::move(poller)) {
  make_nonblocking(shared.endpoints);
  reactor_ = std::make_unique<Reactor>(*poller_, shared);
}

EventLoop::~EventLoop() = default;

void EventLoop::run() { reactor_->run(); }

}  // namespace sockit::serve::models
