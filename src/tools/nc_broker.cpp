#include "tools/nc_broker.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <limits>
#include <map>
#include <memory>
#include <vector>

#include "net/deadline.hpp"
#include "net/epoll.hpp"
#include "net/io.hpp"
#include "tools/nc_chat.hpp"

namespace sockit::tools {
namespace {

using net::Result;
using Say = std::function<void(const std::string&)>;

constexpr std::uint64_t kListenerTag = std::numeric_limits<std::uint64_t>::max();
constexpr std::uint64_t kInputTag = kListenerTag - 1;
constexpr std::size_t kReadSize = 64 * 1024;
// Bounds the work of one listener event: the rest wait for the next turn of the loop.
constexpr int kAcceptsPerEvent = 16;
// After accept() failed for want of descriptors (EMFILE), the listener rests this long.
constexpr int kListenerRestMs = 200;

struct Client {
  net::Socket socket;
  std::string address;  // as -v and errors say it: 127.0.0.1:5555
  std::string host;     // as chat announcements say it: 127.0.0.1
  std::string name;     // <user5>
  chat::LineFramer lines;
  std::string queued;  // bytes it has not taken yet: queued[sent_from..]
  std::size_t sent_from = 0;
  bool watching_output = false;
  std::string farewell;  // non-empty: drop it at the next safe point, saying this (-v)

  std::size_t backlog() const noexcept { return queued.size() - sent_from; }
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
          if (auto r = read_input(); !r) return r.error();
        } else {
          serve_client(static_cast<int>(event.data.u64), event.events);
        }
      }
      if (input_unwatchable_ && !input_done_)
        if (auto r = read_input(); !r) return r.error();
      drop_departed();
    }
  }

 private:
  int wait_ms() const {
    if (input_unwatchable_ && !input_done_) return 0;
    return listener_resting_ ? kListenerRestMs : -1;
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
      rest_since_ = std::chrono::steady_clock::now();
    }
    return {};
  }

  bool listener_rest_over() const {
    return clients_.size() < options_.max_clients &&
           std::chrono::steady_clock::now() - rest_since_ >= std::chrono::milliseconds(kListenerRestMs);
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
                                                  .queued = {},
                                                  .sent_from = 0,
                                                  .watching_output = false,
                                                  .farewell = {}});
    if (auto r = epoll_.add(fd, EPOLLIN, static_cast<std::uint64_t>(fd)); !r) {
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
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR) && client.farewell.empty()) read_client(client);
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
  // now waits in its queue, up to max_queued.
  void broadcast(int from, std::string_view bytes) {
    for (auto& [fd, client] : clients_)
      if (fd != from && client->farewell.empty()) deliver(*client, bytes);
  }

  void deliver(Client& client, std::string_view bytes) {
    if (client.backlog() == 0) {
      auto sent = net::try_send(client.socket.fd(), net::as_bytes(bytes));
      if (!sent) {
        client.farewell = sent.error().what();
        return;
      }
      if (*sent) bytes.remove_prefix(**sent);
      if (bytes.empty()) return;
    }
    if (client.backlog() + bytes.size() > options_.max_queued) {
      client.farewell = "dropped: it does not read";
      warning_("dropped client " + client.address + (options_.chat ? " " + client.name : "") + ": it does not read (" +
               std::to_string(client.backlog() + bytes.size()) + " bytes would wait for it, more than the " +
               std::to_string(options_.max_queued) + " allowed)");
      ++summary_.dropped;
      return;
    }
    if (client.sent_from > 0 && client.sent_from >= client.queued.size() / 2) {
      client.queued.erase(0, client.sent_from);
      client.sent_from = 0;
    }
    client.queued.append(bytes);
    watch_output(client, true);
  }

  void flush(Client& client) {
    while (client.backlog() > 0) {
      const std::string_view rest = std::string_view(client.queued).substr(client.sent_from);
      auto sent = net::try_send(client.socket.fd(), net::as_bytes(rest));
      if (!sent) {
        client.farewell = sent.error().what();
        return;
      }
      if (!*sent) return;  // full again: EPOLLOUT will say when
      client.sent_from += **sent;
    }
    client.queued.clear();
    client.queued.shrink_to_fit();  // an idle client holds no memory
    client.sent_from = 0;
    watch_output(client, false);
  }

  void watch_output(Client& client, bool on) {
    if (client.watching_output == on) return;
    const int fd = client.socket.fd();
    if (auto r = epoll_.modify(fd, on ? EPOLLIN | EPOLLOUT : EPOLLIN, static_cast<std::uint64_t>(fd)); !r) {
      client.farewell = r.error().what();
      return;
    }
    client.watching_output = on;
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
  bool listener_resting_ = false;
  std::chrono::steady_clock::time_point rest_since_;
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
