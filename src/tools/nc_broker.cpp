#include "tools/nc_broker.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <limits>
#include <map>
#include <memory>
#include <vector>

#include "net/deadline.hpp"
#include "net/epoll.hpp"
#include "net/io.hpp"
#include "tools/nc_broker_queue.hpp"
#include "tools/nc_chat.hpp"

namespace sockit::tools {
namespace {

using net::Result;
using Clock = std::chrono::steady_clock;
using Say = std::function<void(const std::string&)>;

constexpr std::uint64_t kListenerTag = std::numeric_limits<std::uint64_t>::max();
constexpr std::uint64_t kInputTag = kListenerTag - 1;
constexpr std::size_t kReadSize = 64 * 1024;
// Bounds the work of one listener event: the rest wait for the next turn of the loop.
constexpr int kAcceptsPerEvent = 16;
// After accept() failed for want of descriptors (EMFILE), the listener rests this long.
constexpr auto kListenerRest = std::chrono::milliseconds(200);
constexpr auto kNever = Clock::time_point::max();

struct Client {
  net::Socket socket;
  std::string address;  // as -v and errors say it: 127.0.0.1:5555
  std::string host;     // as chat announcements say it: 127.0.0.1
  std::string name;     // <user5>
  chat::LineFramer lines;
  OutQueue queue;
  std::uint32_t interest = EPOLLIN;   // what epoll watches it for now
  Clock::time_point over_since = kNever;  // when its queue went over max_queued
  std::string farewell;  // non-empty: drop it at the next safe point, saying this (-v)
};

class Broker {
 public:
  Broker(const net::Socket& listener, net::Epoll epoll, const BrokerOptions& options, const Say& notice,
         const Say& warning)
      : listener_(listener), epoll_(std::move(epoll)), options_(options), notice_(notice), warning_(warning),
        input_lines_(chat::name_of(0), options.max_chat_line) {}

  Result<BrokerSummary> run() {
    if (auto r = epoll_.add(listener_.fd(), EPOLLIN, kListenerTag); !r) return r.error();
    if (auto r = epoll_.add(options_.input, EPOLLIN, kInputTag); !r) {
      // A regular file or /dev/null cannot be watched: it is always readable.
      if (r.error().code() != std::errc::operation_not_permitted) return r.error();
      input_unwatchable_ = true;
    }
    for (;;) {
      auto ready = epoll_.wait(wait_ms());
      if (!ready) return ready.error();
      if (listener_resting_ && listener_rest_over()) resume_listener();
      for (const epoll_event& event : *ready) {
        if (event.data.u64 == kListenerTag) {
          if (auto r = accept_clients(); !r) return r.error();
        } else if (event.data.u64 == kInputTag) {
          if (!paused_)
            if (auto r = read_input(); !r) return r.error();
        } else {
          serve_client(static_cast<int>(event.data.u64), event.events);
        }
      }
      if (input_unwatchable_ && !input_done_ && !paused_)
        if (auto r = read_input(); !r) return r.error();
      drop_stalled();
      drop_departed();
      if (auto r = pause_or_resume(); !r) return r.error();
    }
  }

 private:
  int wait_ms() const {
    if (input_unwatchable_ && !input_done_ && !paused_) return 0;
    auto until = listener_resting_ ? rest_since_ + kListenerRest : kNever;
    for (const auto& [fd, client] : clients_)
      if (client->over_since != kNever) until = std::min(until, client->over_since + options_.max_stall);
    if (until == kNever) return -1;
    return net::Deadline::at(until).poll_timeout_ms();
  }

  Result<void> accept_clients() {
    for (int i = 0; i < kAcceptsPerEvent && clients_.size() < options_.max_clients; ++i) {
      net::Address peer;
      auto socket = listener_.accept(&peer, SOCK_NONBLOCK);
      if (!socket) {
        if (socket.error().would_block()) return {};
        const int err = socket.error().code().value();
        if (err == EINTR || err == ECONNABORTED || err == EPROTO) continue;
        if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
          warning_(std::string(socket.error().what()) + ": new clients wait");
          return rest_listener();
        }
        return socket.error();
      }
      add_client(std::move(*socket), peer);
    }
    // Full: stop watching the listener until someone leaves (the kernel's queue holds the rest).
    if (clients_.size() >= options_.max_clients) return rest_listener();
    return {};
  }

  Result<void> rest_listener() {
    if (!listener_resting_) {
      if (auto r = epoll_.remove(listener_.fd()); !r) return r.error();
      listener_resting_ = true;
      rest_since_ = Clock::now();
    }
    return {};
  }

  bool listener_rest_over() const {
    return clients_.size() < options_.max_clients && Clock::now() - rest_since_ >= kListenerRest;
  }

  void resume_listener() {
    if (epoll_.add(listener_.fd(), EPOLLIN, kListenerTag)) listener_resting_ = false;
  }

  void add_client(net::Socket socket, const net::Address& peer) {
    const int fd = socket.fd();
    const std::string name = chat::name_of(fd);
    auto client = std::make_unique<Client>(Client{.socket = std::move(socket),
                                                  .address = peer.to_string(),
                                                  .host = peer.family() == AF_UNIX ? "unix client" : peer.host(),
                                                  .name = name,
                                                  .lines = chat::LineFramer(name, options_.max_chat_line),
                                                  .queue = {},
                                                  .interest = paused_ ? 0u : EPOLLIN,
                                                  .over_since = kNever,
                                                  .farewell = {}});
    if (auto r = epoll_.add(fd, client->interest, static_cast<std::uint64_t>(fd)); !r) {
      warning_(std::string(r.error().what()) + ": client " + client->address + " dropped");
      return;
    }
    ++summary_.connections;
    notice_("connection from " + client->address + (options_.chat ? " as " + name : ""));
    std::vector<std::pair<std::string, std::string>> others;
    for (const auto& [other_fd, other] : clients_) others.emplace_back(other->host, other->name);
    const std::string host = client->host;
    clients_.emplace(fd, std::move(client));
    if (options_.chat) {
      // ncat tells everyone, the newcomer too, both lines.
      broadcast(-1, chat::connected(host, name));
      broadcast(-1, chat::already_connected(others));
    }
  }

  void serve_client(int fd, std::uint32_t events) {
    auto found = clients_.find(fd);
    if (found == clients_.end() || !found->second->farewell.empty()) return;
    Client& client = *found->second;
    if (events & EPOLLOUT) flush(client);
    // Paused, a client is read only when it hung up or failed (epoll reports that regardless).
    const std::uint32_t readable = paused_ ? EPOLLHUP | EPOLLERR : EPOLLIN | EPOLLHUP | EPOLLERR;
    if (events & readable && client.farewell.empty()) read_client(client);
  }

  void read_client(Client& client) {
    auto got = net::try_recv(client.socket.fd(), buffer_);
    if (!got) {
      client.farewell = got.error().what();
      return;
    }
    if (!*got) return;  // would block: a spurious wake-up
    if (**got == 0) {
      client.farewell = "disconnected";
      return;
    }
    summary_.received += **got;
    const std::span<const std::byte> bytes(buffer_.data(), **got);
    if (!options_.chat) return broadcast(client.socket.fd(), net::as_text(bytes));
    std::string framed;
    client.lines.take(bytes, framed);
    if (!framed.empty()) broadcast(client.socket.fd(), framed);
  }

  Result<void> read_input() {
    ssize_t n = ::read(options_.input, buffer_.data(), buffer_.size());
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return {};
    if (n < 0) return net::errno_error("read from input");
    if (n == 0) {
      input_done_ = true;
      if (!input_unwatchable_) (void)epoll_.remove(options_.input);
      if (options_.chat) {
        std::string rest;
        input_lines_.flush(rest);
        if (!rest.empty()) broadcast(-1, rest);
      }
      return {};
    }
    summary_.received += static_cast<std::uint64_t>(n);
    const std::span<const std::byte> bytes(buffer_.data(), static_cast<std::size_t>(n));
    if (!options_.chat) {
      broadcast(-1, net::as_text(bytes));
      return {};
    }
    std::string framed;
    input_lines_.take(bytes, framed);
    if (!framed.empty()) broadcast(-1, framed);
    return {};
  }

  // To every client but `from` (-1: to all). Tries to send at once; what a client does not take
  // now waits in its queue.
  void broadcast(int from, std::string_view bytes) {
    for (auto& [fd, client] : clients_)
      if (fd != from && client->farewell.empty()) deliver(*client, bytes);
  }

  void deliver(Client& client, std::string_view bytes) {
    if (client.queue.empty()) {
      auto sent = net::try_send(client.socket.fd(), net::as_bytes(bytes));
      if (!sent) {
        client.farewell = sent.error().what();
        return;
      }
      if (*sent) bytes.remove_prefix(**sent);
      if (bytes.empty()) return;
    }
    client.queue.append(bytes);
    if (client.queue.size() > options_.max_queued && client.over_since == kNever) client.over_since = Clock::now();
    update_interest(client);
  }

  void flush(Client& client) {
    while (!client.queue.empty()) {
      auto sent = net::try_send(client.socket.fd(), net::as_bytes(client.queue.front()));
      if (!sent) {
        client.farewell = sent.error().what();
        return;
      }
      if (!*sent) break;  // full again: EPOLLOUT will say when
      client.queue.consumed(**sent);
    }
    if (client.queue.size() <= options_.max_queued) client.over_since = kNever;
    update_interest(client);
  }

  void update_interest(Client& client) {
    const std::uint32_t wanted = (paused_ ? 0u : EPOLLIN) | (client.queue.empty() ? 0u : EPOLLOUT);
    if (client.interest == wanted) return;
    const int fd = client.socket.fd();
    if (auto r = epoll_.modify(fd, wanted, static_cast<std::uint64_t>(fd)); !r) {
      client.farewell = r.error().what();
      return;
    }
    client.interest = wanted;
  }

  // Back-pressure: while some client has more than max_queued waiting, nobody is read, so
  // senders wait in TCP instead of growing queues.
  Result<void> pause_or_resume() {
    const bool over = std::any_of(clients_.begin(), clients_.end(),
                                  [](const auto& entry) { return entry.second->over_since != kNever; });
    if (over == paused_) return {};
    paused_ = over;
    for (auto& [fd, client] : clients_) update_interest(*client);
    // Out of epoll, not watched for nothing: a pipe whose writer left reports EPOLLHUP anyway.
    if (!input_done_ && !input_unwatchable_) {
      auto r = paused_ ? epoll_.remove(options_.input) : epoll_.add(options_.input, EPOLLIN, kInputTag);
      if (!r) return r.error();
    }
    return {};
  }

  void drop_stalled() {
    const auto now = Clock::now();
    for (auto& [fd, client] : clients_) {
      if (client->over_since == kNever || now - client->over_since < options_.max_stall || !client->farewell.empty())
        continue;
      client->farewell = "dropped: it does not read";
      ++summary_.dropped;
      warning_("dropped client " + client->address + (options_.chat ? " " + client->name : "") +
               ": it does not read (" + std::to_string(client->queue.size()) + " bytes waited for it for over " +
               std::to_string(options_.max_stall.count()) + " ms, more than the " +
               std::to_string(options_.max_queued) + " allowed)");
    }
  }

  // The safe point: clients marked during this turn leave now. In chat their unfinished line
  // and their departure are told to the others, which may mark more: repeat until none is left.
  void drop_departed() {
    for (bool any = true; any;) {
      any = false;
      for (auto it = clients_.begin(); it != clients_.end(); ++it) {
        if (it->second->farewell.empty()) continue;
        std::unique_ptr<Client> gone = std::move(it->second);
        clients_.erase(it);
        notice_("connection from " + gone->address + " closed: " + gone->farewell);
        if (options_.chat) {
          std::string rest;
          gone->lines.flush(rest);
          if (!rest.empty()) broadcast(-1, rest);
          broadcast(-1, chat::disconnected(gone->name));
        }
        any = true;
        break;  // the map changed: start over
      }
    }
  }

  const net::Socket& listener_;
  net::Epoll epoll_;
  const BrokerOptions& options_;
  const Say& notice_;
  const Say& warning_;
  chat::LineFramer input_lines_;
  std::map<int, std::unique_ptr<Client>> clients_;  // by descriptor: ncat's order
  std::vector<std::byte> buffer_ = std::vector<std::byte>(kReadSize);
  bool input_unwatchable_ = false;
  bool input_done_ = false;
  bool paused_ = false;
  bool listener_resting_ = false;
  Clock::time_point rest_since_;
  BrokerSummary summary_;
};

}  // namespace

Result<BrokerSummary> run_broker(const net::Socket& listener, const BrokerOptions& options, const Say& notice,
                                 const Say& warning) {
  if (auto r = net::set_nonblocking(listener.fd()); !r) return r.error();
  auto epoll = net::Epoll::create();
  if (!epoll) return epoll.error();
  return Broker(listener, std::move(*epoll), options, notice, warning).run();
}

}  // namespace sockit::tools
