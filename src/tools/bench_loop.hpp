#pragma once

#include <sys/epoll.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <queue>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/epoll.hpp"
#include "net/socket.hpp"
#include "tools/bench_counters.hpp"
#include "tools/bench_driver.hpp"
#include "tools/bench_schedule.hpp"
#include "tools/bench_workload.hpp"

namespace sockit::tools {

/// The times of a run: connections start at `start`, requests count from `measure_from`, and
/// everything stops at `end`.
struct BenchWindow {
  BenchClock::time_point start, measure_from, end;
  bool measuring(BenchClock::time_point now) const noexcept { return now >= measure_from && now < end; }
};

/// One thread's event loop of `sockit bench` and the connections it drives (`ids`, numbered
/// among all `config.conns`). Borrows `config` and `batch` (the pipelined requests, back to
/// back), which must outlive it; everything runs on the thread that calls run().
class BenchLoop {
 public:
  BenchLoop(const BenchConfig& config, const std::string& batch, net::Epoll epoll, BenchWindow window,
            std::vector<unsigned> ids);

  /// Blocks until `window.end`, or until the loop itself fails: opens the connections, sends,
  /// matches replies, counts.
  void run();

  BenchCounters& counters() noexcept { return counters_; }
  /// Why run() stopped early: epoll failed to wait, or refused to watch a socket (the error
  /// names the call, epoll's add or modify, and the target). Such a failure is the load
  /// generator's own, so it ends the run instead of being counted against the server.
  const std::optional<net::Error>& failure() const noexcept { return failure_; }

 private:
  using TimePoint = BenchClock::time_point;
  enum class State { closed, connecting, open };

  struct Connection {
    Connection(const Expectation& expect, Pacer p) : matcher(expect), pacer(p) {}
    net::Socket socket;
    std::uint32_t generation = 0;
    State state = State::closed;
    ReplyMatcher matcher;
    Pacer pacer;
    InFlight in_flight;
    std::size_t unsent = 0;       // requests queued and not completely written
    std::size_t send_offset = 0;  // bytes of the first unsent request already written
    std::uint64_t answered = 0;   // replies completed on this connection
    bool watching_write = false;
    TimePoint connect_started{};
    TimePoint retry_at{};
    TimePoint wake_at = TimePoint::min();
  };

  bool watch(std::size_t i, std::uint32_t events, bool add = false);
  void open(std::size_t i, TimePoint now);
  void connected(std::size_t i, TimePoint now);
  void issue(std::size_t i, TimePoint now);
  void flush(std::size_t i, TimePoint now);
  void handle(const epoll_event& ev, TimePoint now);
  void receive(std::size_t i, TimePoint now);
  void consume(std::size_t i, net::ConstBytes bytes, TimePoint now);
  void datagram(std::size_t i, net::ConstBytes bytes, TimePoint now);
  void end_of_stream(std::size_t i, TimePoint now);
  void complete(std::size_t i, TimePoint now);
  void reopen(std::size_t i, TimePoint now);
  void close(std::size_t i);
  /// Keeps why the first wrong reply of the window was wrong (a static string), if known.
  void note_wrong(std::string_view why, TimePoint now);
  void fail(std::size_t i, ErrorKind kind, TimePoint now);
  void wake_up(std::size_t i, TimePoint now);
  void schedule(std::size_t i, TimePoint when);
  void expire(TimePoint now);

  const BenchConfig& config_;
  const Exchange& x_;
  const bool http_;
  const std::string& batch_;
  net::Epoll epoll_;
  BenchWindow window_;
  std::size_t depth_;
  std::vector<std::byte> buffer_;
  std::vector<Connection> connections_;
  using Timer = std::pair<TimePoint, std::size_t>;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
  BenchCounters counters_;
  std::optional<net::Error> failure_;
};

}  // namespace sockit::tools
