#include "serve/stop_signal.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>

#include "net/error.hpp"

namespace sockit::serve {

StopSignal::StopSignal() : event_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (!event_) throw net::errno_error("eventfd");
}

void StopSignal::request() noexcept {
  requested_.store(true, std::memory_order_release);
  const std::uint64_t one = 1;
  // Never read back: the counter stays non-zero, so every poller keeps seeing "readable".
  [[maybe_unused]] auto n = ::write(event_.get(), &one, sizeof(one));
}

}  // namespace sockit::serve
