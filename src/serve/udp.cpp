// The UDP "models": iterative (one socket, one thread, like the notes' iterative UDP time
// server, but reading and answering datagrams in batches), or N sockets sharing the port with
// SO_REUSEPORT, each in its own thread.
#include "serve/udp.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <string>
#include <thread>

#include "net/error.hpp"

namespace sockit::serve {
namespace {

constexpr std::size_t kBatch = 16;
constexpr std::size_t kMaxDatagram = 65536;  // the largest UDP payload fits, so nothing is cut

class DatagramLoop {
 public:
  DatagramLoop(const net::Socket& socket, const DatagramService& service, const Limits& limits, const StopSignal& stop,
               Log* log)
      : socket_(socket), service_(service), stop_(stop), log_(log), buffers_(kBatch * kMaxDatagram) {
    context_.max_line = limits.max_line;
  }

  void run() {
    while (wait()) {
      const int n = receive();
      if (n <= 0) continue;
      answer(static_cast<std::size_t>(n));
      send_replies();
    }
  }

 private:
  bool wait() {
    for (;;) {
      pollfd fds[2] = {{stop_.fd(), POLLIN, 0}, {socket_.fd(), POLLIN, 0}};
      int n = ::poll(fds, 2, -1);
      if (stop_.requested() || (n > 0 && fds[0].revents != 0)) return false;
      if (n > 0) return true;
      if (errno != EINTR) return true;  // let recvmmsg report what is wrong
    }
  }

  int receive() {
    for (std::size_t i = 0; i < kBatch; ++i) {
      iov_[i] = {buffers_.data() + i * kMaxDatagram, kMaxDatagram};
      headers_[i] = {};
      headers_[i].msg_hdr.msg_name = &senders_[i];
      headers_[i].msg_hdr.msg_namelen = sizeof(senders_[i]);
      headers_[i].msg_hdr.msg_iov = &iov_[i];
      headers_[i].msg_hdr.msg_iovlen = 1;
    }
    const int n = ::recvmmsg(socket_.fd(), headers_.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (n < 0 && errno != EAGAIN && errno != EINTR && log_) log_->notice(net::errno_error("recvmmsg").what());
    return n;
  }

  void answer(std::size_t count) {
    replies_count_ = 0;
    for (std::size_t i = 0; i < count; ++i) {
      const net::Address sender(reinterpret_cast<const sockaddr*>(&senders_[i]), headers_[i].msg_hdr.msg_namelen);
      context_.peer = sender.unmapped().to_string();
      const std::span datagram(buffers_.data() + i * kMaxDatagram, headers_[i].msg_len);
      std::string complaint;
      auto reply = service_.answer(datagram, context_, complaint);
      if (!complaint.empty() && log_) log_->notice(context_.peer + ": " + complaint);
      if (!reply) continue;
      const std::size_t r = replies_count_++;
      replies_[r] = std::move(*reply);
      reply_iov_[r] = {replies_[r].data(), replies_[r].size()};
      out_[r] = {};
      out_[r].msg_hdr.msg_name = &senders_[i];
      out_[r].msg_hdr.msg_namelen = headers_[i].msg_hdr.msg_namelen;
      out_[r].msg_hdr.msg_iov = &reply_iov_[r];
      out_[r].msg_hdr.msg_iovlen = 1;
    }
  }

  void send_replies() {
    std::size_t sent = 0;
    while (sent < replies_count_) {
      const int n = ::sendmmsg(socket_.fd(), out_.data() + sent, static_cast<unsigned>(replies_count_ - sent), 0);
      if (n > 0) {
        sent += static_cast<std::size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        // The first unsent reply failed (e.g. its sender's address is unreachable): drop it.
        const net::Address to(reinterpret_cast<const sockaddr*>(out_[sent].msg_hdr.msg_name),
                              out_[sent].msg_hdr.msg_namelen);
        if (log_) log_->notice(net::errno_error("sendmmsg", to.unmapped().to_string()).what());
        ++sent;
      }
    }
  }

  const net::Socket& socket_;
  const DatagramService& service_;
  const StopSignal& stop_;
  Log* log_;
  SessionContext context_;
  std::vector<std::byte> buffers_;
  std::array<iovec, kBatch> iov_{};
  std::array<sockaddr_storage, kBatch> senders_{};
  std::array<mmsghdr, kBatch> headers_{};
  std::array<std::string, kBatch> replies_{};
  std::array<iovec, kBatch> reply_iov_{};
  std::array<mmsghdr, kBatch> out_{};
  std::size_t replies_count_ = 0;
};

}  // namespace

net::Result<std::vector<net::Socket>> bind_udp_group(const net::Address& address, unsigned count) {
  std::vector<net::Socket> sockets;
  net::Address where = address;
  const bool shared = count > 1;
  for (unsigned i = 0; i < std::max(count, 1u); ++i) {
    auto socket = net::bind_datagram(where, shared);
    if (!socket) return socket.error();
    if (i == 0) {
      auto local = socket->local_address();
      if (!local) return local.error();
      where.set_port(local->port());
    }
    sockets.push_back(std::move(*socket));
  }
  return sockets;
}

void serve_udp(std::vector<net::Socket>& sockets, const DatagramService& service, const Limits& limits,
               StopSignal& stop, Log* log) {
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < sockets.size(); ++i) {
    try {
      threads.emplace_back([&, i] { DatagramLoop(sockets[i], service, limits, stop, log).run(); });
    } catch (...) {  // std::system_error; not inspected: see models/thread.cpp
      if (log) log->notice("udp: the system refused a thread; serving with fewer sockets' threads");
      break;
    }
  }
  if (!sockets.empty()) DatagramLoop(sockets[0], service, limits, stop, log).run();
  for (auto& thread : threads) thread.join();
}

}  // namespace sockit::serve
