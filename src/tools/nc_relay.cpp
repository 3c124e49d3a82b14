#include "tools/nc_relay.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <optional>
#include <string>
#include <vector>

#include "net/deadline.hpp"
#include "net/fd.hpp"
#include "net/io.hpp"
#include "net/sigpipe_block.hpp"
#include "tools/nc_relay_timing.hpp"

namespace sockit::tools {
namespace {

using net::Error;
using net::errno_error;
using net::Fd;
using net::Result;
using relay_timing::idle_ms;
using relay_timing::kPipeSize;
using relay_timing::poll_fds;
using relay_timing::QuitTimer;

constexpr std::size_t kBufferSize = 256 * 1024;

bool is_socket(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

bool is_pipe(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
}

bool would_block(int err) { return err == EAGAIN || err == EWOULDBLOCK; }

// Writes to a socket without SIGPIPE, to anything else with write().
ssize_t write_some(int fd, bool socket, const std::byte* data, std::size_t size) {
  return socket ? ::send(fd, data, size, MSG_NOSIGNAL | MSG_DONTWAIT) : ::write(fd, data, size);
}

// One direction of a relay: source -> sink. When one end is a pipe, one splice() moves bytes
// straight from source to sink ("direct"). Otherwise bytes in flight live either in the pump's
// own pipe (two splices, still no copy to user space) or in a buffer (read/write), never in
// both: the pump only fills when it is empty, so the two never mix.
class Pump {
 public:
  /// `peer` names the socket's peer in errors (asked once: a reset socket has no peer any more).
  Pump(int source, int sink, std::string peer)
      : source_(source), sink_(sink), source_is_socket_(is_socket(source)), sink_is_socket_(is_socket(sink)),
        peer_(std::move(peer)), direct_(is_pipe(source) || is_pipe(sink)) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0) {
      pipe_read_ = Fd(fds[0]);
      pipe_write_ = Fd(fds[1]);
      // A bigger pipe means fewer splice calls per megabyte; a smaller one still works.
      (void)::fcntl(pipe_write_.get(), F_SETPIPE_SZ, kPipeSize);
    } else {
      splice_in_ = splice_out_ = false;
    }
  }

  bool finished() const noexcept { return eof_ && pending_ == 0; }
  bool wants_source() const noexcept { return !eof_ && pending_ == 0 && !sink_full_; }
  bool wants_sink() const noexcept { return pending_ > 0 || sink_full_; }
  std::uint64_t moved() const noexcept { return moved_; }
  bool zero_copy() const noexcept { return spliced_; }
  /// The last failure was EPIPE from the sink: nobody reads it any more.
  bool sink_broken() const noexcept { return sink_broken_; }

  /// Takes what the source has (the caller knows it is readable). Returns bytes taken; 0 also
  /// at EOF (see source_done()).
  Result<std::size_t> fill(const char* what) {
    if (direct_) {
      auto moved = splice_direct();
      if (!moved || direct_) return moved;
    }
    if (splice_in_) {
      ssize_t n = ::splice(source_, nullptr, pipe_write_.get(), nullptr, kPipeSize,
                           SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n > 0) {
        pending_ = static_cast<std::size_t>(n);
        in_pipe_ = true;
        return pending_;
      }
      if (n == 0) {
        eof_ = true;
        return std::size_t{0};
      }
      if (errno == EINTR || would_block(errno)) return std::size_t{0};
      if (errno != EINVAL && errno != ENOSYS && errno != EBADF) return failure(what, source_is_socket_);
      splice_in_ = false;  // a terminal, /dev/null, ...: fall back to read()
    }
    buffer_.resize(kBufferSize);
    ssize_t n = ::read(source_, buffer_.data(), buffer_.size());
    if (n > 0) {
      pending_ = static_cast<std::size_t>(n);
      begin_ = 0;
      in_pipe_ = false;
      return pending_;
    }
    if (n == 0) {
      eof_ = true;
      return std::size_t{0};
    }
    if (errno == EINTR || would_block(errno)) return std::size_t{0};
    return failure(what, source_is_socket_);
  }

  /// Gives the sink what it takes now (the caller knows it is writable).
  Result<std::size_t> drain(const char* what) {
    if (sink_full_) {
      // The sink has room again. If the splice still would block, the source was what was
      // empty: wait for the source again.
      sink_full_ = false;
      auto moved = splice_direct();
      sink_full_ = false;
      return moved;
    }
    if (in_pipe_ && splice_out_) {
      ssize_t n = ::splice(pipe_read_.get(), nullptr, sink_, nullptr, pending_,
                           SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n > 0) {
        pending_ -= static_cast<std::size_t>(n);
        moved_ += static_cast<std::uint64_t>(n);
        spliced_ = true;
        return static_cast<std::size_t>(n);
      }
      if (n < 0 && (errno == EINTR || would_block(errno))) return std::size_t{0};
      if (n < 0 && errno != EINVAL && errno != ENOSYS && errno != EBADF) {
        sink_broken_ = errno == EPIPE;
        return failure(what, sink_is_socket_);
      }
      splice_out_ = false;  // e.g. a terminal or an O_APPEND file: take the bytes back out
    }
    if (in_pipe_) {
      buffer_.resize(kBufferSize);
      std::size_t got = 0;
      while (got < pending_) {
        ssize_t n = ::read(pipe_read_.get(), buffer_.data() + got, pending_ - got);
        if (n <= 0) {
          if (n < 0 && errno == EINTR) continue;
          return errno_error("read from relay pipe");
        }
        got += static_cast<std::size_t>(n);
      }
      begin_ = 0;
      in_pipe_ = false;
    }
    ssize_t n = write_some(sink_, sink_is_socket_, buffer_.data() + begin_, pending_);
    if (n < 0) {
      if (errno == EINTR || would_block(errno)) return std::size_t{0};
      sink_broken_ = errno == EPIPE;
      return failure(what, sink_is_socket_);
    }
    begin_ += static_cast<std::size_t>(n);
    pending_ -= static_cast<std::size_t>(n);
    moved_ += static_cast<std::uint64_t>(n);
    return static_cast<std::size_t>(n);
  }

 private:
  // One splice straight from source to sink (one of them a pipe). Would-block after the source
  // was readable means the sink is full: wait for the sink. A pair splice can't join turns
  // direct mode off and returns 0 (the caller goes on with the pump's own pipe).
  Result<std::size_t> splice_direct() {
    ssize_t n = ::splice(source_, nullptr, sink_, nullptr, kPipeSize, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n > 0) {
      moved_ += static_cast<std::uint64_t>(n);
      spliced_ = true;
      return static_cast<std::size_t>(n);
    }
    if (n == 0) {
      eof_ = true;
      return std::size_t{0};
    }
    if (errno == EINTR) return std::size_t{0};
    if (would_block(errno)) {
      sink_full_ = true;
      return std::size_t{0};
    }
    if (errno == EINVAL || errno == ENOSYS || errno == EBADF) {
      direct_ = false;
      return std::size_t{0};
    }
    // A broken output pipe is the output's failure; anything else is the socket's. Only the
    // sink can say EPIPE.
    sink_broken_ = errno == EPIPE;
    if (errno == EPIPE && !sink_is_socket_) return failure("write to output", false);
    return failure(source_is_socket_ ? "recv" : "send", true);
  }

  // The error for errno. A TCP socket that was reset reports the reset once (ECONNRESET) and
  // ENOTCONN afterwards, possibly to the other direction: both mean the peer reset.
  Error failure(const char* what, bool about_socket) const {
    const int err = about_socket && errno == ENOTCONN ? ECONNRESET : errno;
    return errno_error(what, about_socket ? peer_ : "", err);
  }

  int source_;
  int sink_;
  bool source_is_socket_;
  bool sink_is_socket_;
  std::string peer_;
  Fd pipe_read_;
  Fd pipe_write_;
  bool direct_;
  bool sink_full_ = false;
  bool splice_in_ = true;
  bool splice_out_ = true;
  bool in_pipe_ = false;
  bool eof_ = false;
  bool spliced_ = false;
  bool sink_broken_ = false;
  std::size_t pending_ = 0;
  std::vector<std::byte> buffer_;
  std::size_t begin_ = 0;
  std::uint64_t moved_ = 0;
};

// Blocking write of every byte (output may be a pipe, a file or a terminal).
Result<void> write_all(int fd, const std::byte* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_error("write to output");
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return {};
}

}  // namespace

Result<RelayResult> relay_stream(int input, int output, int socket, const RelayOptions& options) {
  if (auto r = net::set_nonblocking(socket); !r) return r.error();
  const net::SigpipeBlock no_sigpipe;
  const std::string peer = options.peer_name.empty() ? net::peer_text(socket) : options.peer_name;
  Pump outgoing(input, socket, peer);
  Pump incoming(socket, output, peer);
  const bool input_is_terminal = ::isatty(input) == 1;
  bool shut_write = false;
  QuitTimer quit(options);
  RelayResult result;

  for (;;) {
    if (outgoing.finished() && !shut_write) {
      // Input EOF and everything sent: tell the peer with FIN, keep receiving.
      if (::shutdown(socket, SHUT_WR) < 0 && errno != ENOTCONN) return errno_error("shutdown", net::peer_text(socket));
      shut_write = true;
      quit.input_ended();
    }
    if (incoming.finished() && (shut_write || input_is_terminal)) break;
    if (quit.due()) break;

    // Slot 0: input, 1: the socket, 2: output.
    std::array<pollfd, 3> fds{pollfd{-1, 0, 0}, pollfd{socket, 0, 0}, pollfd{-1, 0, 0}};
    if (outgoing.wants_source()) fds[0] = {input, POLLIN, 0};
    if (outgoing.wants_sink()) fds[1].events |= POLLOUT;
    if (incoming.wants_source()) fds[1].events |= POLLIN;
    if (incoming.wants_sink()) fds[2] = {output, POLLOUT, 0};
    if (fds[1].events == 0) fds[1].fd = -1;

    auto ready = poll_fds(fds.data(), fds.size(), quit.limit(idle_ms(options)));
    if (!ready) return ready.error();
    if (*ready == 0) {
      if (quit.due()) break;
      result.timed_out = true;
      break;
    }
    const short error_bits = POLLERR | POLLHUP;
    if (fds[0].revents & (POLLIN | error_bits))
      if (auto r = outgoing.fill("read from input"); !r) return r.error();
    if (fds[1].revents & (POLLIN | error_bits) && incoming.wants_source())
      if (auto r = incoming.fill("recv"); !r) {
        // The output's reader left: like a program killed by SIGPIPE, but an ordinary end.
        if (!incoming.sink_broken()) return r.error();
        result.output_closed = true;
        break;
      }
    if (fds[1].revents & (POLLOUT | POLLERR) && outgoing.wants_sink())
      if (auto r = outgoing.drain("send"); !r) {
        // The peer closed and reset: what we had left to send is lost, which is a failure.
        return r.error();
      }
    if (fds[2].revents & (POLLOUT | error_bits))
      if (auto r = incoming.drain("write to output"); !r) {
        // The output's reader left: like a program killed by SIGPIPE, but an ordinary end.
        if (!incoming.sink_broken()) return r.error();
        result.output_closed = true;
        break;
      }
  }
  result.sent = outgoing.moved();
  result.received = incoming.moved();
  result.zero_copy = outgoing.zero_copy() || incoming.zero_copy();
  return result;
}

Result<RelayResult> relay_datagrams(int input, int output, int socket, const RelayOptions& options) {
  if (auto r = net::set_nonblocking(socket); !r) return r.error();
  const net::SigpipeBlock no_sigpipe;  // output may be a pipe nobody reads any more
  std::vector<std::byte> buffer(65536);
  bool input_done = false;
  bool sent_any = false;
  QuitTimer quit(options);
  RelayResult result;
  for (;;) {
    if (quit.due()) break;
    int timeout = idle_ms(options);
    if (input_done && options.linger_after_input_eof.count() > 0) {
      const int linger = static_cast<int>(options.linger_after_input_eof.count());
      timeout = timeout < 0 ? linger : std::min(timeout, linger);
    }
    std::array<pollfd, 2> fds{pollfd{input_done ? -1 : input, POLLIN, 0}, pollfd{socket, POLLIN, 0}};
    auto ready = poll_fds(fds.data(), fds.size(), quit.limit(timeout));
    if (!ready) return ready.error();
    if (*ready == 0) {
      if (quit.due()) break;
      result.timed_out = !input_done || options.linger_after_input_eof.count() == 0;
      break;
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::read(input, buffer.data(), buffer.size());
      if (n < 0 && errno != EINTR && !would_block(errno)) return errno_error("read from input");
      if (n == 0) {
        input_done = true;
        quit.input_ended();
        if (!sent_any && options.ask_on_empty_input)
          if (auto r = net::send_some(socket, net::ConstBytes{}); !r) return r.error();
      }
      if (n > 0) {
        // A full socket buffer drops nothing here: send waits for room.
        if (auto r = net::send_all(socket, {buffer.data(), static_cast<std::size_t>(n)}); !r) return r.error();
        result.sent += static_cast<std::uint64_t>(n);
        sent_any = true;
      }
    }
    if (fds[1].revents & (POLLIN | POLLERR)) {
      auto n = net::try_recv(socket, buffer);
      if (!n) return n.error();
      if (*n) {
        if (auto r = write_all(output, buffer.data(), **n); !r) {
          if (r.error().code() != std::errc::broken_pipe) return r.error();
          result.output_closed = true;
          break;
        }
        result.received += **n;
      }
    }
  }
  return result;
}

}  // namespace sockit::tools
