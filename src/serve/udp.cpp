// The UDP "models": one thread (like the notes' iterative UDP time server, but reading and
// answering datagrams in batches), or several threads on the same sockets.
//
// Why several threads share one socket per address instead of one SO_REUSEPORT socket each: a
// SO_REUSEPORT group admits any later socket that sets the option under the same user, so a
// second `sockit serve` on the port would join the group and take a share of (with one socket,
// all of) the datagrams instead of failing with "Address already in use" as TCP does.
// SO_ATTACH_REUSEPORT_CBPF can steer datagrams away from a newcomer but not keep it out, and a
// probe bind before the group leaves a window between probe and group. One socket bound without
// SO_REUSEPORT or SO_REUSEADDR is exclusive, as a TCP listener is. Its threads wait in epoll
// instances of their own with EPOLLEXCLUSIVE, so a datagram wakes one of them (as the epoll model
// does on its shared listener), and recvmmsg()/sendmmsg() on one UDP socket are safe from several
// threads; bench figures for both designs are in docs/performance.md.
#include "serve/udp.hpp"

#include <fmt/format.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include "net/epoll.hpp"
#include "net/error.hpp"

namespace sockit::serve {
namespace {

constexpr std::size_t kBatch = 16;
constexpr std::size_t kMaxDatagram = 65536;  // the largest UDP payload fits, so nothing is cut
constexpr int kBatchesPerWake = 4;           // then the other sockets and the stop signal get a turn
constexpr int kTickMs = 1000;                // how often a thread lets the guard end quiet spells
constexpr std::uint64_t kStopTag = ~std::uint64_t{0};

// A bound socket and where it listens (for the guard and the log).
struct UdpSocket {
  const net::Socket& socket;
  net::Address local;
};

class DatagramLoop {
 public:
  DatagramLoop(std::span<const UdpSocket> sockets, const DatagramService& service, const Limits& limits,
               UdpGuard& guard, const StopSignal& stop, Log* log)
      : sockets_(sockets), service_(service), guard_(guard), stop_(stop), log_(log),
        buffers_(kBatch * kMaxDatagram) {
    context_.max_line = limits.max_line;
  }

  void run() {
    auto epoll = net::Epoll::create(sockets_.size() + 1).value();
    epoll.add(stop_.drain_fd(), EPOLLIN, kStopTag).value();  // a drain ends UDP too: no connection to finish
    for (std::size_t i = 0; i < sockets_.size(); ++i)
      epoll.add(sockets_[i].socket.fd(), EPOLLIN | EPOLLEXCLUSIVE, i).value();
    auto last_tick = UdpGuard::Clock::now();
    while (!stop_.draining()) {
      auto ready = epoll.wait(kTickMs);
      if (!ready) {
        if (log_) log_->notice(fmt::format("{}/udp stopped: {}", service_.name(), ready.error().what()));
        return;
      }
      for (const auto& event : *ready)
        if (event.data.u64 != kStopTag) serve_batches(sockets_[event.data.u64]);
      const auto now = UdpGuard::Clock::now();
      if (now - last_tick >= std::chrono::milliseconds(kTickMs)) {
        guard_.tick(now);
        last_tick = now;
      }
    }
  }

 private:
  // Reads until the socket has no more or kBatchesPerWake batches were served (then epoll, level-
  // triggered, reports it again after the other sockets and the stop signal had their turn).
  void serve_batches(const UdpSocket& where) {
    for (int round = 0; round < kBatchesPerWake; ++round) {
      const int n = receive(where);
      if (n <= 0) return;
      answer(where, static_cast<std::size_t>(n));
      send_replies(where);
      if (static_cast<std::size_t>(n) < kBatch) return;
    }
  }

  int receive(const UdpSocket& where) {
    for (std::size_t i = 0; i < kBatch; ++i) {
      iov_[i] = {buffers_.data() + i * kMaxDatagram, kMaxDatagram};
      headers_[i] = {};
      headers_[i].msg_hdr.msg_name = &from_[i];
      headers_[i].msg_hdr.msg_namelen = sizeof(from_[i]);
      headers_[i].msg_hdr.msg_iov = &iov_[i];
      headers_[i].msg_hdr.msg_iovlen = 1;
    }
    const int n = ::recvmmsg(where.socket.fd(), headers_.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (n < 0 && errno != EAGAIN && errno != EINTR && log_)
      log_->notice(net::errno_error("recvmmsg", where.local.to_string()).what());
    return n;
  }

  // Answers what the guard admits, then asks it about the replies' rate in one call.
  void answer(const UdpSocket& where, std::size_t count) {
    const UdpGuard::Listener listener{service_.name(), where.local};
    const auto now = UdpGuard::Clock::now();
    const auto policy = guard_.policy();
    std::size_t pending = 0;
    for (std::size_t i = 0; i < count; ++i) {
      senders_[pending] = net::Address(reinterpret_cast<const sockaddr*>(&from_[i]), headers_[i].msg_hdr.msg_namelen);
      const net::Address& sender = senders_[pending];
      if (!guard_.admit(sender, listener, now, *policy)) continue;
      context_.peer = sender.unmapped().to_string();
      const std::span datagram(buffers_.data() + i * kMaxDatagram, headers_[i].msg_len);
      std::string complaint;
      auto reply = service_.answer(datagram, context_, complaint);
      if (!complaint.empty() && log_) log_->notice(context_.peer + ": " + complaint);
      if (!reply) continue;
      replies_[pending++] = std::move(*reply);
    }
    guard_.may_reply(std::span(senders_.data(), pending), listener, now, std::span(allowed_.data(), pending));
    replies_count_ = 0;
    for (std::size_t p = 0; p < pending; ++p) {
      if (!allowed_[p]) continue;
      const std::size_t r = replies_count_++;
      if (r != p) {
        replies_[r] = std::move(replies_[p]);
        senders_[r] = senders_[p];
      }
      reply_iov_[r] = {replies_[r].data(), replies_[r].size()};
      out_[r] = {};
      out_[r].msg_hdr.msg_name = senders_[r].get();
      out_[r].msg_hdr.msg_namelen = senders_[r].length();
      out_[r].msg_hdr.msg_iov = &reply_iov_[r];
      out_[r].msg_hdr.msg_iovlen = 1;
    }
  }

  void send_replies(const UdpSocket& where) {
    std::size_t sent = 0;
    while (sent < replies_count_) {
      const int n = ::sendmmsg(where.socket.fd(), out_.data() + sent, static_cast<unsigned>(replies_count_ - sent), 0);
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

  std::span<const UdpSocket> sockets_;
  const DatagramService& service_;
  UdpGuard& guard_;
  const StopSignal& stop_;
  Log* log_;
  SessionContext context_;
  std::vector<std::byte> buffers_;
  std::array<iovec, kBatch> iov_{};
  std::array<sockaddr_storage, kBatch> from_{};
  std::array<mmsghdr, kBatch> headers_{};
  std::array<net::Address, kBatch> senders_{};  ///< of the datagrams with a reply, in order
  std::array<std::string, kBatch> replies_{};
  std::array<bool, kBatch> allowed_{};
  std::array<iovec, kBatch> reply_iov_{};
  std::array<mmsghdr, kBatch> out_{};
  std::size_t replies_count_ = 0;
};

}  // namespace

void serve_udp(std::span<const net::Socket* const> sockets, const DatagramService& service, unsigned threads,
               const Limits& limits, UdpGuard& guard, StopSignal& stop, Log* log) {
  std::vector<UdpSocket> where;
  for (const auto* socket : sockets) where.push_back({*socket, socket->local_address().value()});
  const auto loop = [&] { DatagramLoop(where, service, limits, guard, stop, log).run(); };
  const auto helper = [&] {
    try {
      loop();
    } catch (const std::exception& e) {  // a thread must not throw: say why it stopped
      if (log) log->notice(fmt::format("{}/udp: a thread stopped: {}", service.name(), e.what()));
    }
  };
  std::vector<std::jthread> helpers;
  for (unsigned i = 1; i < threads; ++i) {
    try {
      helpers.emplace_back(helper);
    } catch (...) {  // std::system_error; not inspected: see models/thread.cpp
      if (log) log->notice(fmt::format("{}/udp: the system refused a thread; serving with {}", service.name(), i));
      break;
    }
  }
  loop();
}

}  // namespace sockit::serve
