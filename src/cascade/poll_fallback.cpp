// A minimal single-threaded poll() server loop: what cascade serves with until the server
// engine's event models exist in the build. One Connection per client with its session and
// unsent output; reading stops while the output is above the high-water mark.
#include <poll.h>
#include <sys/socket.h>

#include <fmt/core.h>

#include <cstring>
#include <exception>
#include <list>

#include "cascade/serving.hpp"
#include "net/io.hpp"

namespace sockit::cascade {
namespace {

using Clock = std::chrono::steady_clock;

struct Connection {
  net::Socket socket;
  std::string peer;
  std::unique_ptr<serve::Session> session;
  serve::Output out;
  std::size_t sent = 0;  // bytes of `out` already sent
  bool closing = false;  // flush what is left, then close
  Clock::time_point last_activity = Clock::now();
};

class PollFallback : public serve::Model {
 public:
  explicit PollFallback(serve::Log* log) : log_(log) {}
  std::string_view name() const noexcept override { return "cascade-poll"; }

  void run(net::Socket& listener, const serve::Service& service, const serve::Limits& limits,
           serve::StopSignal& stop) override {
    (void)listener.set_nonblocking(true);
    std::list<Connection> connections;
    std::vector<pollfd> fds;
    std::vector<Connection*> owners;
    std::vector<std::byte> buffer(256 * 1024);
    while (!stop.requested()) {
      fds.clear();
      owners.clear();
      fds.push_back({stop.fd(), POLLIN, 0});
      fds.push_back({listener.fd(), static_cast<short>(connections.size() < limits.max_conns ? POLLIN : 0), 0});
      for (auto& c : connections) {
        short events = 0;
        if (c.sent < c.out.size()) events |= POLLOUT;
        if (!c.closing && c.out.size() - c.sent < limits.high_water) events |= POLLIN;
        fds.push_back({c.socket.fd(), events, 0});
        owners.push_back(&c);
      }
      if (::poll(fds.data(), fds.size(), 500) < 0 && errno != EINTR) {
        note(fmt::format("poll failed: {}", std::strerror(errno)));
        return;
      }
      if (fds[1].revents & POLLIN) accept_all(listener, service, limits, connections);
      for (std::size_t i = 0; i < owners.size(); ++i) {
        auto& c = *owners[i];
        const auto revents = fds[i + 2].revents;
        if (revents & (POLLIN | POLLHUP | POLLERR)) read_from(c, buffer);
        if (!c.closing || c.sent < c.out.size()) write_to(c);
      }
      const auto now = Clock::now();
      connections.remove_if([&](Connection& c) {
        const bool idle = now - c.last_activity > limits.idle_timeout;
        const bool done = c.closing && c.sent >= c.out.size();
        if (idle) chat(fmt::format("closed {}: idle for too long", c.peer));
        else if (done) chat(fmt::format("closed {} after {} requests", c.peer, c.session->requests()));
        return idle || done;
      });
    }
  }

 private:
  void accept_all(net::Socket& listener, const serve::Service& service, const serve::Limits& limits,
                  std::list<Connection>& connections) {
    while (connections.size() < limits.max_conns) {
      net::Address from;
      auto socket = listener.accept(&from, SOCK_NONBLOCK);
      if (!socket) {
        if (!socket.error().would_block()) note(socket.error().what());
        return;
      }
      serve::SessionContext context;
      context.max_line = limits.max_line;
      context.peer = from.to_string();
      auto& c = connections.emplace_back();
      c.socket = std::move(*socket);
      c.peer = context.peer;
      c.session = service.new_session(context);
      chat(fmt::format("connected {}", c.peer));
      if (c.session->open(c.out) == serve::Verdict::close) c.closing = true;
      report(c);
    }
  }

  void read_from(Connection& c, std::vector<std::byte>& buffer) {
    if (c.closing) return;
    auto got = net::try_recv(c.socket.fd(), buffer);
    if (!got) {
      if (got.error().would_block()) return;
      chat(got.error().what());
      c.closing = true;
      c.sent = c.out.size();
      return;
    }
    c.last_activity = Clock::now();
    const auto verdict = *got == 0 ? c.session->end_of_input(c.out)
                                   : c.session->receive(std::span(buffer.data(), *got), c.out);
    if (*got == 0 || verdict == serve::Verdict::close) c.closing = true;
    report(c);
  }

  void write_to(Connection& c) {
    while (c.sent < c.out.size()) {
      auto sent = net::try_send(c.socket.fd(), c.out.bytes().subspan(c.sent));
      if (!sent) {
        if (!sent.error().would_block()) {
          chat(sent.error().what());
          c.closing = true;
          c.sent = c.out.size();
        }
        break;
      }
      c.sent += *sent;
      c.last_activity = Clock::now();
    }
    if (c.sent == c.out.size()) {
      c.out.clear();
      c.sent = 0;
    } else if (c.sent > (1u << 20)) {
      c.out.consume(c.sent);
      c.sent = 0;
    }
  }

  void report(Connection& c) {
    for (const auto& complaint : c.session->complaints()) chat(complaint);
    c.session->complaints().clear();
  }

  void note(std::string_view line) {
    if (log_) log_->notice(line);
  }
  void chat(std::string_view line) {
    if (log_) log_->connection(line);
  }

  serve::Log* log_;
};

}  // namespace

std::unique_ptr<serve::Model> make_poll_fallback(serve::Log* log) { return std::make_unique<PollFallback>(log); }

}  // namespace sockit::cascade
