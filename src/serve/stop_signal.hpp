#pragma once

#include <atomic>

#include "net/fd.hpp"

namespace sockit::serve {

/// Tells models to stop. request() is async-signal-safe, so a SIGTERM handler may call it.
/// fd() becomes readable (and stays so) once stop is requested: poll it next to the listener.
class StopSignal {
 public:
  /// Throws net::Error if no eventfd can be made.
  StopSignal();

  void request() noexcept;
  bool requested() const noexcept { return requested_.load(std::memory_order_acquire); }
  int fd() const noexcept { return event_.get(); }

 private:
  net::Fd event_;
  std::atomic<bool> requested_{false};
};

}  // namespace sockit::serve
