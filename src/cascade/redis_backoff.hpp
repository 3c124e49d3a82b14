#pragma once

#include <chrono>
#include <optional>

namespace sockit::cascade {

/// Whether to try Redis now, after failures: the state every caller of one server shares, so
/// that a server that is down costs each request an instant answer, not a timeout. After a
/// failure nobody tries until the retry time; then one caller (the probe) tries while the others
/// still get "wait"; each failed probe doubles the interval, up to `longest`; a success ends it.
/// Pure logic on a clock it is given; not thread-safe (its owner locks).
class RedisBackoff {
 public:
  using Clock = std::chrono::steady_clock;

  explicit RedisBackoff(std::chrono::milliseconds first = std::chrono::milliseconds(100),
                        std::chrono::milliseconds longest = std::chrono::seconds(2)) noexcept;

  enum class Turn {
    go,     ///< healthy: try
    probe,  ///< down, and this caller tries once for everyone: report succeeded() or failed()
    wait,   ///< down: answer without trying (retry_in() says when it is tried again)
  };
  Turn turn(Clock::time_point now);

  /// A try (of any turn) succeeded. Returns how long the server was down when this ends an
  /// outage, else nullopt.
  std::optional<Clock::duration> succeeded(Clock::time_point now);
  /// A try failed. Returns true when this starts an outage (the first failure after a success),
  /// false while one goes on. `probe`: this was the probe's try, so the next wait is twice as
  /// long.
  bool failed(Clock::time_point now, bool probe);

  bool down() const noexcept { return down_since_.has_value(); }
  /// How long the server has been down (zero when it is not).
  Clock::duration down_for(Clock::time_point now) const noexcept;
  /// Time until the next probe; zero when due (or a probe is out).
  Clock::duration retry_in(Clock::time_point now) const noexcept;

 private:
  std::chrono::milliseconds first_;
  std::chrono::milliseconds longest_;
  std::chrono::milliseconds interval_;
  std::optional<Clock::time_point> down_since_;
  Clock::time_point retry_at_{};
  bool probing_ = false;
};

}  // namespace sockit::cascade
