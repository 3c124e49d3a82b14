#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>

namespace sockit::tools {

using BenchClock = std::chrono::steady_clock;

/// When a connection's next request is due. Closed loop: as soon as a slot is free (the
/// request's intended time is when it is sent). Open loop (--rate): on a fixed schedule that
/// never waits for the server, so a stalled server shows as latency instead of a lower send
/// rate (no coordinated omission: wrk2's correction).
class Pacer {
 public:
  static Pacer closed() noexcept { return Pacer(BenchClock::duration::zero(), {}); }
  /// Requests due at first, first + interval, first + 2 interval, ...
  static Pacer open(BenchClock::duration interval, BenchClock::time_point first) noexcept {
    return Pacer(interval, first);
  }

  bool is_open() const noexcept { return interval_ > BenchClock::duration::zero(); }

  /// The intended send time of the next request if one is due at `now` (and takes it), else
  /// nullopt. Closed loop: always `now`. Open loop: requests not taken when due stay owed and
  /// keep their intended times, however late they are taken.
  std::optional<BenchClock::time_point> take_due(BenchClock::time_point now) noexcept {
    if (!is_open()) return now;
    if (next_ > now) return std::nullopt;
    const auto due = next_;
    next_ += interval_;
    return due;
  }
  /// When the next request is due (open loop); time_point::min() for the closed loop.
  BenchClock::time_point next_due() const noexcept {
    return is_open() ? next_ : BenchClock::time_point::min();
  }

 private:
  Pacer(BenchClock::duration interval, BenchClock::time_point first) noexcept
      : interval_(interval), next_(first) {}
  BenchClock::duration interval_;
  BenchClock::time_point next_;
};

/// The requests a connection has sent (or begun) and not yet seen answered, oldest first:
/// replies come back in order, so the oldest is the one a reply answers.
class InFlight {
 public:
  struct Request {
    BenchClock::time_point intended;  ///< when the schedule wanted it sent
    BenchClock::time_point started;   ///< when it really was (for --timeout)
  };

  void push(BenchClock::time_point intended, BenchClock::time_point started) {
    requests_.push_back({intended, started});
  }
  /// The oldest request is answered at `now`: removes it, returns its latency measured from
  /// its intended send time. Precondition: !empty().
  BenchClock::duration complete(BenchClock::time_point now) {
    const auto latency = now - requests_.front().intended;
    requests_.pop_front();
    return latency;
  }
  const Request& oldest() const { return requests_.front(); }
  std::size_t size() const noexcept { return requests_.size(); }
  bool empty() const noexcept { return requests_.empty(); }
  void clear() noexcept { requests_.clear(); }

 private:
  std::deque<Request> requests_;
};

}  // namespace sockit::tools
