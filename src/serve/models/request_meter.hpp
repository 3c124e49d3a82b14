#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "serve/metrics.hpp"

namespace sockit::serve::models {

/// What one connection tells its service's counters: bytes in and out, requests answered, and
/// how long each request took. Both kinds of model use it (Connection, serve_blocking); without
/// counters (no --admin) every call returns at once.
///
/// A request's latency runs from the moment the read that brought its first byte returned to
/// the moment the send that handed the kernel the last byte of its answer returned: the time the
/// server had it, its own queueing and a client slow to read included, the network's not. The
/// end is found by position: an answer ends at a byte offset of everything the connection ever
/// queued, and is done once that many bytes were sent. Requests answered by one session call
/// (pipelined ones, read together) are timed together, from the first byte of the first; two
/// such groups are followed at a time, and a third joins the second (timed from the second's
/// start: an over-estimate for it, never an under-estimate). A request whose answer never left
/// (the client went away) is counted but not timed.
///
/// Cost: one clock read per group (the read's time is the loop's wake-up time, read anyway),
/// and relaxed atomic adds on the thread's own stripe. Memory: a pointer per connection without
/// counters, and about a hundred bytes more (on the heap) with them. Used by the connection's
/// thread.
class RequestMeter {
 public:
  using Clock = std::chrono::steady_clock;

  /// `counters` null: counts nothing, holds nothing.
  explicit RequestMeter(ServiceCounters* counters)
      : state_(counters ? std::make_unique<State>(State{.counters = counters}) : nullptr) {}

  void received(std::size_t bytes) noexcept {
    if (state_) state_->counters->received(bytes);
  }
  /// After a session call: `requests` is its Session::requests() now; those it answered since the
  /// last call began at `began`, and their answers end `unsent` bytes after what was sent so far.
  void answered(std::size_t requests, Clock::time_point began, std::size_t unsent) noexcept;
  /// `requests` (Session::requests()) counted with no time: output nobody asked for (chargen's),
  /// or what a session counted that no call reported (at the end of a connection).
  void counted(std::size_t requests) noexcept;
  /// `bytes` were handed to the kernel.
  void sent(std::size_t bytes) noexcept;
  /// The answers still queued will never go out (the connection failed).
  void abandon() noexcept {
    if (state_) state_->marks_in_use = 0;
  }

 private:
  struct Mark {
    std::uint64_t end;  // the answer's last byte, as an offset of everything queued
    Clock::time_point began;
    std::uint64_t requests;
  };
  struct State {
    ServiceCounters* counters;
    std::uint64_t sent = 0;
    std::size_t requests = 0;  // Session::requests() as last counted
    std::array<Mark, 2> marks{};
    std::uint8_t marks_in_use = 0;
  };

  void finish_marks() noexcept;

  std::unique_ptr<State> state_;
};

}  // namespace sockit::serve::models
