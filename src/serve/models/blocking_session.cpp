#include "serve/models/blocking_session.hpp"

#include <fmt/core.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "net/deadline.hpp"
#include "net/io.hpp"
#include "net/options.hpp"
#include "net/sigpipe_block.hpp"
#include "serve/connection_log.hpp"
#include "serve/models/blocking_acceptor.hpp"
#include "serve/models/request_meter.hpp"

namespace sockit::serve::models::blocking {
namespace {

constexpr std::size_t kReadChunk = 64 * 1024;

enum class Ready { input, room, stop, idle, request_late };

class BlockingConnection {
 public:
  BlockingConnection(const net::Socket& socket, std::string peer, const Limits& limits, const StopSignal& stop,
                     ModelLog log)
      : socket_(socket), peer_(std::move(peer)), limits_(limits), stop_(stop), log_(log), meter_(log.counters()) {}

  void serve(Session& session, bool producer) {
    // Everything is sent before the session is offered more, so a batch of low_water (not
    // high_water) keeps the pipe as full and holds a quarter of the memory per thread.
    Output out(std::min(limits_.high_water, limits_.low_water));
    std::optional<Verdict> verdict = answer(session, out, [&] { return session.open(out); });
    bool eof = false;
    while (verdict && flush(session, out) && *verdict == Verdict::keep_going) {
      // Everything is sent, so the session has its whole budget again.
      if (!held().empty()) {
        verdict = offer(session, out);
        continue;
      }
      if (eof && !producer) break;
      const Ready ready = wait(/*input=*/!eof, /*room=*/producer, request_deadline(session));
      if (ready == Ready::stop) {
        reason_ = "server stopping";
        break;
      }
      if (ready == Ready::idle) {
        reason_ = "idle for " + seconds(limits_.idle_timeout);
        break;
      }
      if (ready == Ready::request_late) {
        reason_ = "request not complete within " + seconds(limits_.request_timeout);
        if (answer(session, out,
                   [&] {
                     session.request_timed_out(reason_, out);
                     return Verdict::close;
                   }) &&
            flush(session, out))
          linger();  // the client was in the middle of a request: more of it may come
        break;
      }
      if (ready == Ready::room) {
        verdict = call([&] { return session.writable(out); });
        meter_.counted(session.requests());
        continue;
      }
      auto n = net::try_recv(socket_.fd(), buffer_);
      if (!n) {
        reason_ = n.error().what();
        break;
      }
      if (!*n) continue;  // woken for nothing
      if (**n == 0) {
        eof = true;
        verdict = answer(session, out, [&] { return session.end_of_input(out); });
      } else {
        meter_.received(**n);
        held_begin_ = 0;
        held_end_ = **n;
        arrived_ = net::Deadline::Clock::now();
        verdict = offer(session, out);
      }
    }
    if (reason_.empty()) reason_ = eof ? "peer closed" : verdict == Verdict::close ? "session closed" : "";
    if (!eof && reason_ == "session closed" && (reading_when_closed_ || net::unread_bytes(socket_.fd()))) linger();
    meter_.counted(session.requests());
  }

  const std::string& reason() const noexcept { return reason_; }

 private:
  std::span<const std::byte> held() const { return std::span(buffer_).subspan(held_begin_, held_end_ - held_begin_); }

  // Runs one session call; an exception ends this connection (logged), never the server.
  template <typename Call>
  std::optional<Verdict> call(Call&& body) {
    try {
      return body();
    } catch (const std::exception& e) {
      log_.notice(fmt::format("session for {} failed: {}", peer_, e.what()));
      reason_ = fmt::format("session failed: {}", e.what());
    } catch (...) {
      log_.notice(fmt::format("session for {} failed: unknown exception", peer_));
      reason_ = "session failed";
    }
    return std::nullopt;
  }

  // A session call that may answer requests (all but writable()): they are counted and timed,
  // from the start of the request it was in, or from this input.
  template <typename Call>
  std::optional<Verdict> answer(const Session& session, const Output& out, Call&& body) {
    const auto began = request_began_.value_or(arrived_);
    const auto verdict = call(std::forward<Call>(body));
    if (verdict) meter_.answered(session.requests(), began, out.size());
    return verdict;
  }

  // Hands the held input to the session, which takes what its budget allows (Session's contract).
  std::optional<Verdict> offer(Session& session, Output& out) {
    const auto in = held();
    Taken taken{in.size()};
    const auto verdict = answer(session, out, [&] {
      taken = session.receive(in, out);
      return taken.verdict;
    });
    if (verdict) note_request(session);
    if (verdict == Verdict::close) reading_when_closed_ = true;
    if (!verdict || *verdict == Verdict::close || taken.bytes >= in.size()) {
      held_begin_ = held_end_ = 0;
      return verdict;
    }
    if (!out.full()) {
      log_.notice(fmt::format("session for {} took {} of {} bytes with room for more output", peer_, taken.bytes,
                                 in.size()));
      reason_ = "session stopped taking input";
      return std::nullopt;
    }
    held_begin_ += taken.bytes;
    return verdict;
  }

  // Everything is sent and the session closed while its client may still be sending (it closed
  // while taking requests, or input waits unread): shuts our side and reads until EOF
  // (Limits::linger).
  void linger() {
    if (limits_.linger <= std::chrono::milliseconds::zero() || ::shutdown(socket_.fd(), SHUT_WR) != 0) return;
    const auto end = net::Deadline::after(limits_.linger);
    for (;;) {
      const Ready ready = wait(/*input=*/true, /*room=*/false, end);
      if (ready == Ready::request_late) {
        reason_ = "still sending after " + seconds(limits_.linger) + " of lingering close";
        (void)net::set_linger(socket_.fd(), std::chrono::seconds(0));  // the close resets it at once
        return;
      }
      if (ready != Ready::input) return;
      auto n = net::try_recv(socket_.fd(), buffer_);
      if (!n || (*n && **n == 0)) return;
      if (*n) meter_.received(**n);
    }
  }

  // Sends everything queued and logs the session's complaints; false when the client is gone or
  // made no room for idle_timeout. Tries first and waits only when the socket is full.
  bool flush(Session& session, Output& out) {
    for (const auto& complaint : session.complaints())
      log_.connection(peer_ + ": " + complaint);
    session.complaints().clear();
    auto deadline = net::Deadline::after(limits_.idle_timeout);
    while (!out.empty()) {
      const auto piece = out.front();
      if (piece.is_file()) prepare_for_files();
      auto sent = send_piece(socket_.fd(), piece);
      if (!sent) {
        reason_ = sent.error().what();
        return false;
      }
      if (*sent) {
        meter_.sent(**sent);
        out.consume(**sent);
        deadline = net::Deadline::after(limits_.idle_timeout);
        continue;
      }
      const Ready ready = wait_for_room(deadline);
      if (ready == Ready::stop) {
        reason_ = "server stopping";
        return false;
      }
      if (ready == Ready::idle) {
        reason_ = "client stopped reading for " + seconds(limits_.idle_timeout);
        return false;
      }
    }
    return true;
  }

  // Waits until the socket has room (or an error the next send will tell) or `deadline`. Once
  // stop is requested, the answer being sent gets the grace period to finish, as in the event
  // models, and no more: a client that does not read cannot hold the server past it.
  Ready wait_for_room(net::Deadline deadline) {
    for (;;) {
      if (!grace_end_ && stop_.requested()) grace_end_ = net::Deadline::after(limits_.grace_period);
      const bool grace_first = grace_end_ && grace_end_->when() < deadline.when();
      const auto until = grace_first ? *grace_end_ : deadline;
      pollfd fds[2] = {{socket_.fd(), POLLOUT, 0}, {stop_.fd(), POLLIN, 0}};
      const int n = ::poll(fds, grace_end_ ? 1 : 2, until.poll_timeout_ms());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return grace_first ? Ready::stop : Ready::idle;
      // The eventfd is shared with forked children, whose own `requested()` never changes.
      if (!grace_end_ && fds[1].revents != 0) {
        grace_end_ = net::Deadline::after(limits_.grace_period);
        continue;
      }
      if (fds[0].revents != 0) return Ready::room;
    }
  }

  // sendfile() has no MSG_DONTWAIT and no MSG_NOSIGNAL: the socket goes non-blocking and this
  // thread blocks SIGPIPE, from the first file range on (services without files pay nothing).
  void prepare_for_files() {
    if (no_sigpipe_) return;
    no_sigpipe_.emplace();
    (void)net::set_nonblocking(socket_.fd(), true);
  }

  // After the session took input: when its current request began (with the bytes that began it).
  void note_request(const Session& session) {
    if (!session.mid_request())
      request_began_.reset();
    else if (!request_began_)
      request_began_ = arrived_;
  }

  std::optional<net::Deadline> request_deadline(const Session& session) const {
    if (!request_began_ || !session.mid_request() || limits_.request_timeout <= std::chrono::milliseconds::zero())
      return std::nullopt;
    return net::Deadline::at(*request_began_ + limits_.request_timeout);
  }

  // Waits for input (or EOF), room to write, stop, or a timeout: the request's deadline in the
  // middle of a request that has one (nginx: client_header_timeout, not keepalive_timeout), else
  // the idle timeout; restarts after EINTR.
  Ready wait(bool input, bool room, std::optional<net::Deadline> request) {
    const auto deadline = request ? *request : net::Deadline::after(limits_.idle_timeout);
    const Ready timed_out = request ? Ready::request_late : Ready::idle;
    for (;;) {
      const short events = static_cast<short>((input ? POLLIN : 0) | (room ? POLLOUT : 0));
      pollfd fds[2] = {{socket_.fd(), events, 0}, {stop_.fd(), POLLIN, 0}};
      int n = ::poll(fds, 2, deadline.poll_timeout_ms());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Ready::idle;
      // The eventfd is shared with forked children, whose own `requested()` never changes.
      if (stop_.requested() || fds[1].revents != 0) return Ready::stop;
      if (n == 0) return timed_out;
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
  ModelLog log_;
  RequestMeter meter_;
  std::vector<std::byte> buffer_ = std::vector<std::byte>(kReadChunk);
  std::size_t held_begin_ = 0;  // buffer_[held_begin_, held_end_): read, not yet taken
  std::size_t held_end_ = 0;
  std::optional<net::SigpipeBlock> no_sigpipe_;
  std::optional<net::Deadline> grace_end_;  // stop was requested: sending ends by then
  net::Deadline::Clock::time_point arrived_ = net::Deadline::Clock::now();  // when the last read returned
  std::optional<net::Deadline::Clock::time_point> request_began_;  // the session is mid-request since
  std::string reason_;
  bool reading_when_closed_ = false;  // the session closed while taking its client's requests
};

}  // namespace

void serve_blocking(const net::Socket& connection, const std::string& name, const Service& service,
                    const Limits& limits, const StopSignal& stop, const ModelLog& log) {
  log.connection(connected_line(name));
  SessionContext context;
  context.max_line = limits.max_line;
  context.peer = name;
  std::unique_ptr<Session> session;
  try {
    session = service.new_session(context);
  } catch (const std::exception& e) {
    log.notice(fmt::format("session for {} failed: {}", name, e.what()));
    log.connection(closed_line(name, 0, fmt::format("session failed: {}", e.what())));
    return;
  }
  BlockingConnection conn(connection, name, limits, stop, log);
  conn.serve(*session, service.produces_without_input());
  log.connection(closed_line(name, session->requests(), conn.reason()));
}

}  // namespace sockit::serve::models::blocking
