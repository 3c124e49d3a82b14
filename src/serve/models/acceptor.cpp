#include "serve/models/acceptor.hpp"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/socket.h>

#include <cerrno>

#include "serve/connection_log.hpp"

namespace sockit::serve::models {
namespace {

net::Fd open_reserve() { return net::Fd(::open("/dev/null", O_RDONLY | O_CLOEXEC)); }

}  // namespace

Acceptor::Acceptor(const net::Socket& listener, const Limits& limits, std::atomic<std::size_t>& open, ModelLog log)
    : listener_(listener), limits_(limits), open_(open), log_(log), reserve_(open_reserve()) {}

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
  if (out_of_descriptors_) {
    out_of_descriptors_ = false;
    log_.notice("accepting again: descriptors are available");
  }
  if (open_.fetch_add(1, std::memory_order_relaxed) >= limits_.max_conns) {
    open_.fetch_sub(1, std::memory_order_relaxed);
    log_.connection(refused_line(peer, limits_.max_conns));
    return false;  // `socket` closes here
  }
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
      if (!out_of_descriptors_) {
        out_of_descriptors_ = true;
        log_.notice(fmt::format("{}; closing waiting clients until descriptors free up", what));
      }
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
