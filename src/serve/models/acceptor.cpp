#include "serve/models/acceptor.hpp"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/socket.h>

#include <cerrno>
#include <utility>

#include "net/options.hpp"
#include "serve/connection_log.hpp"

namespace sockit::serve::models {
namespace {

net::Fd open_reserve() { return net::Fd(::open("/dev/null", O_RDONLY | O_CLOEXEC)); }


constexpr std::chrono::seconds kQuietToEndSpell{1};

}  // namespace

bool DescriptorSpell::failed(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  last_failure_ = now;
  return !std::exchange(active_, true);
}

bool DescriptorSpell::accepted(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (!active_ || now - last_failure_ < kQuietToEndSpell) return false;
  active_ = false;
  return true;
}

Acceptor::Acceptor(const net::Socket& listener, const Limits& limits, std::atomic<std::size_t>& open,
                   DescriptorSpell& spell, ModelLog log)
    : listener_(listener), limits_(limits), open_(open), log_(log), spell_(spell), reserve_(open_reserve()) {}

Acceptor::Outcome Acceptor::accept_one(Accepted& out) {
  net::Address peer;
  auto got = listener_.accept(&peer, SOCK_NONBLOCK);
  if (!got) {
    if (got.error().would_block()) return Outcome::drained;
    return failed(got.error().code().value(), got.error().what());
  }
  return admit(std::move(*got), peer.to_string(), out) ? Outcome::accepted : Outcome::refused;
}

bool Acceptor::admit(net::Socket socket, std::string peer, Accepted& out) {
  if (spell_.accepted(DescriptorSpell::Clock::now())) log_.notice("accepting again: descriptors are available");
  if (open_.fetch_add(1, std::memory_order_relaxed) >= limits_.max_conns) {
    open_.fetch_sub(1, std::memory_order_relaxed);
    log_.connection(refused_line(peer, limits_.max_conns));
    return false;  // `socket` closes here
  }
  // Replies leave as soon as they are written: Nagle's algorithm would hold a small one back
  // until the previous one is acknowledged (Redis and nginx turn it off too). A Unix socket
  // refuses the option, harmlessly.
  (void)net::set_no_delay(socket.fd(), true);
  out = Accepted{std::move(socket), std::move(peer), ConnectionSlot(open_)};
  return true;
}

Acceptor::Outcome Acceptor::failed(int error, const std::string& what) {
  switch (error) {
    case EINTR:
    case ECONNABORTED:  // the client gave up while queued
    case EPROTO:
    case EPERM:  // a firewall rule refused it
      return Outcome::refused;
    case EMFILE:
    case ENFILE:
    case ENOBUFS:
    case ENOMEM:
      if (spell_.failed(DescriptorSpell::Clock::now()))
        log_.notice(fmt::format("{}; closing waiting clients until descriptors free up", what));
      return shed() ? Outcome::refused : Outcome::paused;
    default:
      log_.notice(what);
      return Outcome::paused;
  }
}

bool Acceptor::shed() {
  if (!reserve_) {
    reserve_ = open_reserve();
    return false;
  }
  reserve_.reset();
  auto victim = listener_.accept(nullptr, SOCK_NONBLOCK);  // closed at once: it gets a FIN
  reserve_ = open_reserve();
  return victim.has_value();
}

}  // namespace sockit::serve::models
