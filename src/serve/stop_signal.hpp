#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <utility>

#include "net/fd.hpp"

namespace sockit::serve {

/// Tells a model run to end, in one of two ways:
/// - drain(): take no new client (a reload removed or replaced what it serves) and let every
///   connection go on until it ends by itself; the run returns once none is left.
/// - request(): stop: take no new client, close idle connections, give the rest the grace period.
/// request() after drain() turns the drain into a stop. Both are async-signal-safe, so a signal
/// handler may call them. Each fd() becomes readable (and stays so) once its state is reached:
/// poll it next to the listener.
///
/// Whoever may take a client holds an Accepting while it may (an event loop until it has seen the
/// drain, a blocking loop around its wait and accept), and looks at draining() after taking it:
/// so once wait_for_accepting() says none is left, no client can be taken any more, and a
/// reload can hand the listeners to the next run knowing that every client from then on is the
/// next run's.
class StopSignal {
 public:
  /// One accept loop that may take a client. Move-only.
  class Accepting {
   public:
    Accepting() = default;
    explicit Accepting(const StopSignal& stop) noexcept : stop_(&stop) { stop.accepting_.fetch_add(1); }
    Accepting(Accepting&& other) noexcept : stop_(std::exchange(other.stop_, nullptr)) {}
    Accepting& operator=(Accepting&& other) noexcept {
      std::swap(stop_, other.stop_);
      return *this;
    }
    ~Accepting() { release(); }
    /// Takes no client any more.
    void release() noexcept {
      if (auto* stop = std::exchange(stop_, nullptr)) stop->accepting_.fetch_sub(1);
    }

   private:
    const StopSignal* stop_ = nullptr;
  };

  /// Throws net::Error if no eventfd can be made.
  StopSignal();

  void request() noexcept;
  void drain() noexcept;
  bool requested() const noexcept { return requested_.load(std::memory_order_acquire); }
  /// True once drain() or request() was called: accept no more.
  bool draining() const noexcept { return draining_.load(std::memory_order_acquire); }
  /// Readable once requested().
  int fd() const noexcept { return event_.get(); }
  /// Readable once draining().
  int drain_fd() const noexcept { return drain_event_.get(); }

  /// After drain(): blocks until no accept loop may take a client any more, or `limit` passes
  /// (a loop busy on its CPU, a worker inside a blocking accept); true if none may.
  bool wait_for_accepting(std::chrono::milliseconds limit) const;

 private:
  net::Fd event_;
  net::Fd drain_event_;
  std::atomic<bool> requested_{false};
  std::atomic<bool> draining_{false};
  mutable std::atomic<std::size_t> accepting_{0};  // Accepting objects alive
};

}  // namespace sockit::serve
