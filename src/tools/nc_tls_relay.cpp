#include "tools/nc_tls_relay.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <vector>

#include "net/sigpipe_block.hpp"
#include "tools/nc_relay_timing.hpp"

namespace sockit::tools {
namespace {

using net::Result;
using relay_timing::kPipeSize;
using relay_timing::QuitTimer;

// Input is read up to 256 KiB at a time and handed to SSL_write as is: OpenSSL cuts it into
// 16 KiB records (the largest) as it encrypts. Decrypted bytes are collected up to 256 KiB per
// write to output.
constexpr std::size_t kChunk = 256 * 1024;

// Bytes in flight in one direction: [begin, end) of a fixed buffer, filled only when empty.
struct Chunk {
  std::vector<std::byte> bytes = std::vector<std::byte>(kChunk);
  std::size_t begin = 0;
  std::size_t end = 0;
  bool empty() const noexcept { return begin == end; }
  std::span<const std::byte> data() const noexcept { return {bytes.data() + begin, end - begin}; }
  std::span<std::byte> room() noexcept { return {bytes.data() + end, bytes.size() - end}; }
  void consumed(std::size_t n) noexcept {
    begin += n;
    if (begin == end) begin = end = 0;
  }
};

// The relay's state: each TLS call that would block remembers the socket events it waits for
// (`*_wait`); a call is repeated only after poll() reported them, so nothing spins.
class TlsRelay {
 public:
  TlsRelay(int input, int output, TlsStream& tls, int socket, const RelayOptions& options)
      : input_(input), output_(output), socket_(socket), tls_(tls), options_(options), quit_(options),
        input_is_terminal_(::isatty(input) == 1) {
    // A default pipe holds 64 KiB: a bigger one lets each read() and write() move a whole chunk.
    for (int fd : {input, output}) {
      struct stat st {};
      if (::fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode)) (void)::fcntl(fd, F_SETPIPE_SZ, kPipeSize);
    }
  }

  Result<RelayResult> run() {
    for (;;) {
      if (auto moved = move_through_tls(); !moved) return moved.error();
      if (peer_closed_ && incoming_.empty() && (close_notify_sent_ || input_is_terminal_)) break;
      if (quit_.due()) break;
      auto more = wait_and_move();
      if (!more) return more.error();
      if (!*more) break;
    }
    return result_;
  }

 private:
  bool wants_to_send() const {
    return !outgoing_.empty() || (input_eof_ && !close_notify_sent_) || tls_.unsent() > 0;
  }

  // Every TLS call that can go on without waiting, until none can.
  Result<void> move_through_tls() {
    for (bool progressed = true; progressed;) {
      progressed = false;
      if (!peer_closed_ && incoming_.empty() && read_wait_ == 0) {
        auto r = receive();
        if (!r) return r.error();
        progressed = progressed || *r;
      }
      if (!outgoing_.empty() && write_wait_ == 0) {
        auto io = tls_.write(outgoing_.data());
        if (!io) return io.error();
        outgoing_.consumed(io->bytes);
        result_.sent += io->bytes;
        write_wait_ = io->wait;
        if (io->bytes > 0 && read_wait_ == POLLOUT) read_wait_ = 0;
        progressed = progressed || io->bytes > 0;
      }
      if (input_eof_ && outgoing_.empty() && !close_notify_sent_ && write_wait_ == 0) {
        auto io = tls_.send_close_notify();  // queued and flushed: wait is POLLOUT until it is out
        if (!io) return io.error();
        write_wait_ = io->wait;
        if (io->wait == 0) {
          // Then FIN, as plain nc: peers that read until EOF and ignore close_notify stop too.
          if (::shutdown(socket_, SHUT_WR) < 0 && errno != ENOTCONN)
            return net::errno_error("shutdown", tls_.peer());
          close_notify_sent_ = true;
          quit_.input_ended();
          progressed = true;
        }
      }
    }
    // The records the writes (and reads: TLS answers some messages) gathered leave now, before
    // anything waits; a full socket is waited for like a write that would block.
    if (tls_.unsent() > 0) {
      auto io = tls_.flush();
      if (!io) return io.error();
      if (write_wait_ == 0) write_wait_ = io->wait;  // else poll() asks for POLLOUT anyway
    }
    return {};
  }

  // Decrypts records into `incoming_` until it is full or the TLS layer has nothing left.
  // Returns whether anything happened.
  Result<bool> receive() {
    bool progressed = false;
    while (!incoming_.room().empty()) {
      auto io = tls_.read(incoming_.room());
      if (!io) return io.error();
      if (io->closed) {
        peer_closed_ = true;
        return true;
      }
      if (io->wait != 0) {
        read_wait_ = io->wait;
        break;
      }
      incoming_.end += io->bytes;
      result_.received += io->bytes;
      progressed = true;
      if (write_wait_ == POLLIN) write_wait_ = 0;  // a read may have done what a write waited for
      if (!tls_.has_pending()) {
        read_wait_ = POLLIN;  // nothing buffered in TLS: the next record must come from the socket
        break;
      }
    }
    return progressed;
  }

  // One poll() over input, socket and output, and the input/output work it allows. Returns
  // false when the relay must end (timeout, quit time, output gone).
  Result<bool> wait_and_move() {
    // Slot 0: input, 1: the socket, 2: output.
    std::array<pollfd, 3> fds{pollfd{-1, 0, 0}, pollfd{-1, 0, 0}, pollfd{-1, 0, 0}};
    if (!input_eof_ && outgoing_.empty()) fds[0] = {input_, POLLIN, 0};
    short events = 0;
    if (!peer_closed_ && incoming_.empty()) events |= read_wait_;
    if (wants_to_send()) events |= write_wait_;
    if (tls_.unsent() > 0) events |= POLLOUT;
    if (events != 0) fds[1] = {socket_, events, 0};
    if (!incoming_.empty()) fds[2] = {output_, POLLOUT, 0};

    auto ready = relay_timing::poll_fds(fds.data(), fds.size(), quit_.limit(relay_timing::idle_ms(options_)));
    if (!ready) return ready.error();
    if (*ready == 0) {
      result_.timed_out = !quit_.due();
      return false;
    }
    const short socket_events = fds[1].revents;
    const short failure = POLLERR | POLLHUP;
    if (socket_events & (read_wait_ | failure)) read_wait_ = 0;
    if (socket_events & (write_wait_ | failure)) write_wait_ = 0;
    if (fds[0].revents & (POLLIN | failure))
      if (auto r = read_input(); !r) return r.error();
    if (fds[2].revents & (POLLOUT | failure)) return write_output();
    return true;
  }

  Result<void> read_input() {
    ssize_t n = ::read(input_, outgoing_.bytes.data(), outgoing_.bytes.size());
    if (n < 0) return errno == EINTR || errno == EAGAIN ? Result<void>{} : net::errno_error("read from input");
    if (n == 0) input_eof_ = true;
    outgoing_.begin = 0;
    outgoing_.end = static_cast<std::size_t>(n);
    return {};
  }

  Result<bool> write_output() {
    const auto pending = incoming_.data();
    ssize_t n = ::write(output_, pending.data(), pending.size());
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
    if (n < 0 && errno == EPIPE) {
      // The output's reader left: like a program killed by SIGPIPE, but an ordinary end.
      result_.output_closed = true;
      return false;
    }
    if (n < 0) return net::errno_error("write to output");
    incoming_.consumed(static_cast<std::size_t>(n));
    return true;
  }

  int input_;
  int output_;
  int socket_;
  TlsStream& tls_;
  const RelayOptions& options_;
  QuitTimer quit_;
  bool input_is_terminal_;
  Chunk outgoing_;  // input -> TLS
  Chunk incoming_;  // TLS -> output
  short read_wait_ = 0;
  short write_wait_ = 0;
  bool input_eof_ = false;
  bool peer_closed_ = false;
  bool close_notify_sent_ = false;
  RelayResult result_;
};

}  // namespace

Result<RelayResult> relay_tls(int input, int output, TlsStream& tls, int socket, const RelayOptions& options) {
  const net::SigpipeBlock no_sigpipe;  // output may be a pipe nobody reads any more
  return TlsRelay(input, output, tls, socket, options).run();
}

}  // namespace sockit::tools
