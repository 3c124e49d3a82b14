#include "serve/models/blocking_session.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <string>
#include <vector>

#include "net/deadline.hpp"
#include "net/io.hpp"
#include "serve/connection_log.hpp"
#include "serve/models/blocking_acceptor.hpp"

namespace sockit::serve::models::blocking {
namespace {

constexpr std::size_t kReadChunk = 64 * 1024;

enum class Ready { input, room, stop, idle };

class BlockingConnection {
 public:
  BlockingConnection(const net::Socket& socket, std::string peer, const Limits& limits, const StopSignal& stop, Log* log)
      : socket_(socket), peer_(std::move(peer)), limits_(limits), stop_(stop), log_(log) {}

  void serve(Session& session, bool producer) {
    Output out;
    Verdict verdict = session.open(out);
    bool eof = false;
    while (deliver(session, out) && verdict == Verdict::keep_going) {
      if (eof && !producer) break;
      const Ready ready = wait(/*input=*/!eof, /*room=*/producer);
      if (ready == Ready::stop) {
        reason_ = "server stopping";
        break;
      }
      if (ready == Ready::idle) {
        reason_ = "idle for " + seconds(limits_.idle_timeout);
        break;
      }
      if (ready == Ready::room) {
        verdict = session.writable(out);
        continue;
      }
      auto n = net::recv_some(socket_.fd(), buffer_);
      if (!n) {
        reason_ = n.error().what();
        break;
      }
      if (*n == 0) {
        eof = true;
        verdict = session.end_of_input(out);
      } else {
        verdict = session.receive(std::span(buffer_).first(*n), out);
      }
    }
    if (reason_.empty()) reason_ = eof ? "peer closed" : verdict == Verdict::close ? "session closed" : "";
  }

  const std::string& reason() const noexcept { return reason_; }

 private:
  // Sends everything queued and logs the session's complaints; false when the client is gone.
  bool deliver(Session& session, Output& out) {
    for (const auto& complaint : session.complaints())
      if (log_) log_->notice(peer_ + ": " + complaint);
    session.complaints().clear();
    if (out.empty()) return true;
    auto sent = net::send_all(socket_.fd(), out.bytes(), net::Deadline::after(limits_.idle_timeout));
    out.clear();
    if (!sent) {
      reason_ = sent.error().timed_out() ? "client stopped reading for " + seconds(limits_.idle_timeout)
                                         : std::string(sent.error().what());
      return false;
    }
    return true;
  }

  // Waits for input (or EOF), room to write, stop, or the idle timeout; restarts after EINTR.
  Ready wait(bool input, bool room) {
    const auto deadline = net::Deadline::after(limits_.idle_timeout);
    for (;;) {
      const short events = static_cast<short>((input ? POLLIN : 0) | (room ? POLLOUT : 0));
      pollfd fds[2] = {{socket_.fd(), events, 0}, {stop_.fd(), POLLIN, 0}};
      int n = ::poll(fds, 2, deadline.poll_timeout_ms());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Ready::idle;
      // The eventfd is shared with forked children, whose own `requested()` never changes.
      if (stop_.requested() || fds[1].revents != 0) return Ready::stop;
      if (n == 0) return Ready::idle;
      const short got = fds[0].revents;
      if (got & (POLLIN | POLLHUP | POLLERR)) return input ? Ready::input : Ready::room;
      if (got & POLLOUT) return Ready::room;
    }
  }

  static std::string seconds(std::chrono::milliseconds ms) { return duration_text(ms.count()); }

  const net::Socket& socket_;
  std::string peer_;
  const Limits& limits_;
  const StopSignal& stop_;
  Log* log_;
  std::vector<std::byte> buffer_ = std::vector<std::byte>(kReadChunk);
  std::string reason_;
};

}  // namespace

void serve_blocking(const net::Socket& connection, const net::Address& peer, const Service& service, const Limits& limits,
                    const StopSignal& stop, Log* log) {
  const auto name = peer_name(peer);
  if (log) log->connection(connected_line(name));
  SessionContext context;
  context.max_line = limits.max_line;
  context.peer = name;
  auto session = service.new_session(context);
  BlockingConnection conn(connection, name, limits, stop, log);
  conn.serve(*session, service.produces_without_input());
  if (log) log->connection(closed_line(name, session->requests(), conn.reason()));
}

}  // namespace sockit::serve::models::blocking
