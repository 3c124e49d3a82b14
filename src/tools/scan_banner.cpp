#include "tools/scan_banner.hpp"

#include <sys/epoll.h>

#include <algorithm>
#include <cerrno>
#include <deque>

#include "net/epoll.hpp"
#include "net/io.hpp"
#include "net/socket.hpp"
#include "tools/scan_identify.hpp"

namespace sockit::tools {
namespace {

using Clock = std::chrono::steady_clock;
using net::Result;

struct Reading {
  net::Socket socket;
  PortResult* port = nullptr;
  Clock::time_point quiet_until;  // then send the probe, if the port said nothing
  Clock::time_point deadline;
  std::string received;
  bool connected = false;
  bool probed = false;
  bool eof = false;
};

class BannerReader {
 public:
  BannerReader(const net::Address& target, const ScanOptions& options, net::Epoll epoll)
      : target_(target), options_(options), epoll_(std::move(epoll)),
        quiet_(std::min<Clock::duration>(options.banner_timeout / 4, std::chrono::milliseconds(500))),
        slots_(static_cast<std::size_t>(std::max(1, options.parallel))) {
    for (std::size_t i = slots_.size(); i-- > 0;) free_.push_back(i);
  }

  Result<std::vector<std::uint16_t>> run(std::vector<PortResult>& ports) {
    for (auto& port : ports)
      if (port.state == PortState::open) todo_.push_back(&port);
    while (!todo_.empty() || live_ > 0) {
      if (options_.stop_requested && options_.stop_requested()) break;
      launch_what_we_may();
      if (todo_.empty() && live_ == 0) break;
      auto ready = epoll_.wait(wait_ms());
      if (!ready) return ready.error();
      for (const epoll_event& event : *ready) on_ready(static_cast<std::size_t>(event.data.u64));
      on_timers();
    }
    return std::move(done_);
  }

 private:
  void launch_what_we_may() {
    while (!todo_.empty() && !free_.empty()) {
      PortResult* port = todo_.front();
      auto address = target_;
      address.set_port(port->port);
      auto started = net::start_connect(address);
      if (!started) {
        const int err = started.error().code().value();
        if ((err == EMFILE || err == ENFILE || err == EAGAIN || err == EADDRNOTAVAIL) && live_ > 0) return;
        todo_.pop_front();
        finish_unread(*port);
        continue;
      }
      todo_.pop_front();
      const std::size_t slot = free_.back();
      Reading& r = slots_[slot];
      r = Reading{};
      r.socket = std::move(started->socket);
      r.port = port;
      r.deadline = Clock::now() + options_.banner_timeout;
      if (!epoll_.add(r.socket.fd(), EPOLLOUT, slot)) {
        finish_unread(*port);
        r.socket.close();
        continue;
      }
      free_.pop_back();
      ++live_;
      if (started->connected) on_connected(slot);
    }
  }

  void on_connected(std::size_t slot) {
    Reading& r = slots_[slot];
    r.connected = true;
    r.quiet_until = Clock::now() + quiet_;
    if (!epoll_.modify(r.socket.fd(), EPOLLIN, slot)) finish(slot);
  }

  void on_ready(std::size_t slot) {
    Reading& r = slots_[slot];
    if (!r.socket) return;  // finished by an earlier event of this batch
    if (!r.connected) {
      auto err = r.socket.pending_error();
      if (!err || *err != 0) return finish(slot);
      return on_connected(slot);
    }
    char buffer[kBannerReadMax];
    const std::size_t room = kBannerReadMax - r.received.size();
    auto n = net::try_recv(r.socket.fd(), std::as_writable_bytes(std::span(buffer, room)));
    if (!n) return finish(slot);  // a reset: keep what came before it
    if (!*n) return;
    if (**n == 0) r.eof = true;
    r.received.append(buffer, **n);
    if (banner_complete(r.received, r.probed, r.eof)) finish(slot);
  }

  void on_timers() {
    const auto now = Clock::now();
    for (std::size_t slot = 0; slot < slots_.size(); ++slot) {
      Reading& r = slots_[slot];
      if (!r.socket) continue;
      if (now >= r.deadline) {
        finish(slot);
      } else if (r.connected && !r.probed && r.received.empty() && now >= r.quiet_until) {
        r.probed = true;
        if (!net::try_send(r.socket.fd(), net::as_bytes(kBannerProbe))) finish(slot);
      }
    }
  }

  int wait_ms() const {
    if (!todo_.empty() && !free_.empty()) return 0;
    auto until = Clock::now() + std::chrono::milliseconds(100);
    for (const Reading& r : slots_) {
      if (!r.socket) continue;
      until = std::min(until, r.deadline);
      if (r.connected && !r.probed && r.received.empty()) until = std::min(until, r.quiet_until);
    }
    return static_cast<int>(std::max<long>(0, std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now()).count()));
  }

  void finish(std::size_t slot) {
    Reading& r = slots_[slot];
    const auto id = identify_service(r.received, r.probed, r.eof, std::chrono::system_clock::now());
    r.port->banner = id.banner;
    r.port->identified = id.service;
    r.port->server = id.server;
    done_.push_back(r.port->port);
    r.socket.close();
    free_.push_back(slot);
    --live_;
  }

  void finish_unread(PortResult& port) { done_.push_back(port.port); }

  net::Address target_;
  const ScanOptions& options_;
  net::Epoll epoll_;
  Clock::duration quiet_;
  std::vector<Reading> slots_;
  std::vector<std::size_t> free_;
  std::deque<PortResult*> todo_;
  std::vector<std::uint16_t> done_;
  int live_ = 0;
};

}  // namespace

Result<std::vector<std::uint16_t>> grab_banners(const net::Address& target, std::vector<PortResult>& ports,
                                                const ScanOptions& options) {
  auto epoll = net::Epoll::create();
  if (!epoll) return epoll.error();
  BannerReader reader(target, options, std::move(*epoll));
  return reader.run(ports);
}

}  // namespace sockit::tools
