#include "serve/stop_signal.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <thread>

#include "net/error.hpp"

namespace sockit::serve {
namespace {

net::Fd make_event() {
  net::Fd event(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!event) throw net::errno_error("eventfd");
  return event;
}

// Never read back: the counter stays non-zero, so every poller keeps seeing "readable".
void raise(const net::Fd& event) noexcept {
  const std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(event.get(), &one, sizeof(one));
}

}  // namespace

StopSignal::StopSignal() : event_(make_event()), drain_event_(make_event()) {}

void StopSignal::drain() noexcept {
  draining_.store(true, std::memory_order_release);
  raise(drain_event_);
}

void StopSignal::request() noexcept {
  requested_.store(true, std::memory_order_release);
  drain();
  raise(event_);
}

bool StopSignal::wait_for_accepting(std::chrono::milliseconds limit) const {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (accepting_.load() > 0) {
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace sockit::serve
