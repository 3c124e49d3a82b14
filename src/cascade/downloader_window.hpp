#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace sockit::cascade {

/// How many block requests to keep in flight on one connection: enough for kAhead of what the
/// connection has been bringing (longer than a request's round trip through a full uplink queue
/// and a lost packet's retransmission), and one more, so that a connection whose window is what
/// holds it back can grow; at least kMin, at most `max`. A request in flight commits its block to
/// that peer, so a slow connection is asked for little at a time, and what it is asked for can
/// follow the swarm as it changes; a fast one (loopback) still gets `max`.
///
/// A source (a seed) gets `max` whatever its rate: what it is asked for is our own stripe, front
/// to back, which no one else asks it for, so nothing is lost by committing it there; and sized
/// from its rate, a connection sharing a seed's uplink with many others would stay as slow as it
/// started (docs/swarm.md: with few requests queued it is outsent by the connections with many,
/// its smaller rate gives it a smaller window, and its stripe reaches the swarm last). No clock of
/// its own: fed with the bytes of each answer and the time of each update.
class RequestWindow {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::size_t kMin = 2;
  static constexpr std::chrono::milliseconds kAhead{3000};   // what the window should cover
  static constexpr std::chrono::milliseconds kSample{100};   // the rate is measured over this at least

  RequestWindow(std::uint64_t block_size, std::size_t max);

  /// An answer brought `bytes`.
  void received(std::uint64_t bytes) noexcept { bytes_ += bytes; }
  /// Folds what arrived since the last sample into the rate, once kSample has passed.
  void update(Clock::time_point now);

  /// Requests to keep in flight: to a source `max`, to any other peer what its rate calls for.
  std::size_t depth(bool source) const noexcept { return source ? max_ : depth_; }
  std::size_t depth() const noexcept { return depth_; }
  /// Bytes per second, smoothed over the last samples.
  double rate() const noexcept { return rate_; }

 private:
  std::uint64_t block_size_;
  std::size_t max_;
  std::size_t depth_;
  std::uint64_t bytes_ = 0;
  double rate_ = 0;
  bool sampled_ = false;
  Clock::time_point last_{};
};

}  // namespace sockit::cascade
