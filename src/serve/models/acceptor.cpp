#include "serve/models/acceptor.hpp"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "net/options.hpp"
#include "serve/connection_log.hpp"

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

// What a refused client sent already is read (and dropped) up to this much before the close.
constexpr std::size_t kDrainOnRefusal = 64 * 1024;

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

Acceptor::Acceptor(const Endpoint& endpoint, DescriptorSpell& spell, ModelLog log)
    : listener_(endpoint.listener), service_(endpoint.service), spell_(spell), log_(log), reserve_(open_reserve()) {
  if (auto local = listener_.local_address()) local_ = local->to_string();
}

Client Acceptor::client_of(net::Fd fd, const net::Address* peer) {
  // Replies leave as soon as they are written: Nagle's algorithm would hold a small one back
  // until the previous one is acknowledged (Redis and nginx turn it off too). A Unix socket
  // refuses the option, harmlessly.
  (void)net::set_no_delay(fd.get(), true);
  const net::Address address = peer ? peer->unmapped() : net::Address();
  return Client{net::Socket(std::move(fd)), peer ? address.to_string() : std::string("?"), address};
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
  if (error == EINVAL) return Outcome::closed;  // accept(2): "socket is not listening for connections"
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
  net::Address peer;
  net::Fd victim(::accept4(listener_.fd(), peer.get(), peer.length_pointer(), SOCK_NONBLOCK | SOCK_CLOEXEC));
  if (!victim.valid()) {
    reserve_ = open_reserve();
    return false;
  }
  Client client = client_of(std::move(victim), &peer);
  turn_away(client, service_, Refused{ConnectionRefusal::out_of_descriptors, "out of descriptors", {}}, log_);
  reserve_ = open_reserve();  // the victim is closed: its descriptor is the reserve again
  return true;
}

std::optional<Ticket> admit(Client& client, const Endpoint& endpoint, const ModelLog& log) {
  auto ticket = endpoint.admission->admit(client.address);
  if (ticket.admitted()) return ticket;
  turn_away(client, endpoint.service, *ticket.refused(), log);
  return std::nullopt;
}

void turn_away(Client& client, const Service& service, const Refused& refused, const ModelLog& log) {
  const int fd = client.socket.fd();
  const auto answer = service.refusal_answer(refused.kind, refused.reason);
  // A fresh socket's send buffer is empty: a short answer goes whole or (the client gone) not at all.
  if (!answer.empty()) (void)::send(fd, answer.data(), answer.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  char sink[4096];
  for (std::size_t drained = 0; drained < kDrainOnRefusal;) {
    const auto n = ::recv(fd, sink, sizeof sink, MSG_DONTWAIT);
    if (n <= 0) break;
    drained += static_cast<std::size_t>(n);
  }
  // Logged before the close: whoever sees the close (a test, an operator) finds the line written.
  log.connection(refused_line(client.peer, refused.kind, refused.reason, refused.detail));
  client.socket.close();
}

}  // namespace sockit::serve::models
