#include "serve/models/acceptor.hpp"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "net/options.hpp"

namespace sockit::serve::models {
namespace {

net::Fd open_reserve() { return net::Fd(::open("/dev/null", O_RDONLY | O_CLOEXEC)); }

constexpr std::chrono::seconds kQuietToEndSpell{1};

// accept(2): "Linux accept() passes already-pending network errors on the new socket as an error
// code from accept()... the application should treat them like EAGAIN and retry." EPERM: a
// firewall rule refused the client.
bool transient(int error) {
  switch (error) {
    case EINTR: case ECONNABORTED: case EPROTO: case ENETDOWN: case ENOPROTOOPT: case EHOSTDOWN:
    case ENONET: case EHOSTUNREACH: case EOPNOTSUPP: case ENETUNREACH: case EPERM:
      return true;
    default:
      return false;
  }
}

bool out_of_descriptors(int error) { return error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM; }

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

Acceptor::Acceptor(const net::Socket& listener, DescriptorSpell& spell, ModelLog log)
    : listener_(listener), spell_(spell), log_(log), reserve_(open_reserve()) {
  if (auto local = listener.local_address()) local_ = local->to_string();
}

Client Acceptor::client_of(net::Fd fd, const net::Address* peer) {
  // Replies leave as soon as they are written: Nagle's algorithm would hold a small one back
  // until the previous one is acknowledged (Redis and nginx turn it off too). A Unix socket
  // refuses the option, harmlessly.
  (void)net::set_no_delay(fd.get(), true);
  return Client{net::Socket(std::move(fd)), peer ? peer->unmapped().to_string() : std::string("?")};
}

Client Acceptor::adopt(net::Fd fd) {
  net::Address peer;
  const bool known = ::getpeername(fd.get(), peer.get(), peer.length_pointer()) == 0;  // else gone already
  return client_of(std::move(fd), known ? &peer : nullptr);
}

Acceptor::Outcome Acceptor::accept_one(Client& client) {
  // accept4() itself rather than Socket::accept(): the failures here are routine (EAGAIN after
  // every burst, EMFILE in a storm) and need only errno, not an Error with its message.
  net::Address peer;
  const int fd = ::accept4(listener_.fd(), peer.get(), peer.length_pointer(), SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? Outcome::drained : failed(errno);
  if (spell_.accepted(DescriptorSpell::Clock::now())) log_.notice(fmt::format("accepting on {} again", local_));
  if (!reserve_) reserve_ = open_reserve();
  client = client_of(net::Fd(fd), &peer);
  return Outcome::accepted;
}

Acceptor::Outcome Acceptor::failed(int error) {
  if (transient(error)) return Outcome::again;
  if (out_of_descriptors(error)) {
    if (spell_.failed(DescriptorSpell::Clock::now()))
      log_.notice(fmt::format("accept on {} failed: {}; closing waiting clients until descriptors free up", local_,
                              std::strerror(error)));
    return shed() ? Outcome::again : Outcome::paused;
  }
  log_.notice(fmt::format("accept on {} failed: {}", local_, std::strerror(error)));
  return Outcome::paused;
}

bool Acceptor::shed() {
  if (!reserve_) {
    reserve_ = open_reserve();
    return false;
  }
  reserve_.reset();
  net::Fd victim(::accept4(listener_.fd(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));  // closed at once: EOF
  reserve_ = open_reserve();
  return victim.valid();
}

}  // namespace sockit::serve::models
