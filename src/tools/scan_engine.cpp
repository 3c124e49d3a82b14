#include "tools/scan_engine.hpp"

#include <algorithm>
#include <cerrno>
#include <deque>
#include <map>

#include "net/epoll.hpp"
#include "tools/scan_probe.hpp"

namespace sockit::tools {
namespace {

using Clock = std::chrono::steady_clock;
using net::Result;

constexpr int kStopCheckMs = 100;  // how long a wait may go without looking at stop_requested

struct Probe {
  net::Socket socket;
  std::uint16_t port = 0;
  int attempt = 0;
  std::uint64_t serial = 0;  // tells a live probe from a finished one reusing its slot
  bool live = false;
};

struct Waiting {
  Clock::time_point deadline;
  std::size_t slot;
  std::uint64_t serial;
};

// One run's state: ports still to probe, probes in flight (a slot each), results.
class Scanner {
 public:
  Scanner(const net::Address& target, ScanProtocol protocol, std::span<const std::uint16_t> ports,
          const ScanOptions& options, net::Epoll epoll)
      : target_(target), protocol_(protocol), options_(options), epoll_(std::move(epoll)),
        slots_(static_cast<std::size_t>(std::max(1, options.parallel))) {
    for (auto port : ports) todo_.push_back({port, 1});
    for (std::size_t i = slots_.size(); i-- > 0;) free_.push_back(i);
  }

  Result<ProbeRun> run() {
    next_launch_ = Clock::now();
    ProbeRun run;
    while (!todo_.empty() || in_flight_ > 0) {
      if (options_.stop_requested && options_.stop_requested()) {
        run.interrupted = true;
        break;
      }
      if (auto r = launch_what_we_may(); !r) return r.error();
      if (todo_.empty() && in_flight_ == 0) break;  // the last probes were answered at once
      if (auto r = wait_and_collect(); !r) return r.error();
      expire_overdue();
    }
    run.probes_sent = probes_sent_;
    for (auto& [port, result] : results_) run.ports.push_back(std::move(result));
    return run;
  }

 private:
  struct Todo {
    std::uint16_t port;
    int attempt;
  };

  Launch start(const net::Address& address) {
    return protocol_ == ScanProtocol::tcp ? start_tcp_probe(address, spare_) : start_udp_probe(address);
  }

  Result<void> launch_what_we_may() {
    busy_ = false;
    while (!todo_.empty() && !free_.empty() && !busy_) {
      // Probes refused inside connect() (a closed port on this host) take no slot: without this
      // look a whole range could go by before Ctrl-C is seen.
      if (options_.stop_requested && options_.stop_requested()) break;
      const auto now = Clock::now();
      if (options_.rate > 0 && now < next_launch_) break;
      const Todo todo = todo_.front();
      auto address = target_;
      address.set_port(todo.port);
      Launch launch = start(address);
      if (launch.busy) {
        // Out of descriptors or ephemeral ports: wait for a probe in flight to free one.
        if (in_flight_ == 0) return net::errno_error("socket", address.to_string(), EMFILE);
        busy_ = true;
        break;
      }
      todo_.pop_front();
      ++probes_sent_;
      if (options_.rate > 0)
        next_launch_ = std::max(next_launch_, now - std::chrono::milliseconds(50)) +
                       std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / options_.rate));
      if (launch.verdict) {
        record(todo.port, todo.attempt, *launch.verdict);
        continue;
      }
      const std::size_t slot = free_.back();
      free_.pop_back();
      Probe& probe = slots_[slot];
      probe = Probe{std::move(launch.socket), todo.port, todo.attempt, ++serial_, true};
      if (auto added = epoll_.add(probe.socket.fd(), launch.events, slot); !added)
        return net::Error(added.error().call(), added.error().code(), address.to_string());
      waiting_.push_back({now + options_.timeout, slot, probe.serial});
      ++in_flight_;
    }
    return {};
  }

  int wait_ms() const {
    const auto now = Clock::now();
    const bool may_launch = !todo_.empty() && !free_.empty() && !busy_;
    if (may_launch && options_.rate <= 0) return 0;
    auto until = Clock::time_point::max();
    if (!waiting_.empty()) until = waiting_.front().deadline;
    if (may_launch) until = std::min(until, next_launch_);
    int ms = -1;
    if (until == Clock::time_point::max()) ms = busy_ ? 10 : -1;
    else if (until <= now) ms = 0;
    else ms = static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(until - now).count());
    if (options_.stop_requested && (ms < 0 || ms > kStopCheckMs)) ms = kStopCheckMs;
    return ms;
  }

  Result<void> wait_and_collect() {
    auto ready = epoll_.wait(wait_ms());
    if (!ready) return ready.error();
    for (const epoll_event& event : *ready) {
      const auto slot = static_cast<std::size_t>(event.data.u64);
      Probe& probe = slots_[slot];
      if (!probe.live) continue;
      auto verdict = protocol_ == ScanProtocol::tcp ? finish_tcp_probe(probe.socket) : finish_udp_probe(probe.socket);
      if (verdict) finish(slot, *verdict);
    }
    return {};
  }

  void expire_overdue() {
    const auto now = Clock::now();
    while (!waiting_.empty() && waiting_.front().deadline <= now) {
      const Waiting w = waiting_.front();
      waiting_.pop_front();
      Probe& probe = slots_[w.slot];
      if (!probe.live || probe.serial != w.serial) continue;  // answered before its deadline
      const std::uint16_t port = probe.port;
      const int attempt = probe.attempt;
      release(w.slot);
      if (attempt <= options_.retries) {
        todo_.push_back({port, attempt + 1});
      } else {
        record(port, attempt, protocol_ == ScanProtocol::tcp ? Verdict{PortState::filtered, "no-response"}
                                                             : Verdict{PortState::open_filtered, "no-response"});
      }
    }
  }

  void finish(std::size_t slot, const Verdict& verdict) {
    record(slots_[slot].port, slots_[slot].attempt, verdict);
    release(slot);
  }

  void release(std::size_t slot) {
    Probe& probe = slots_[slot];
    probe.socket.close();  // closing the only descriptor also takes it out of the epoll set
    probe.live = false;
    free_.push_back(slot);
    --in_flight_;
    busy_ = false;
  }

  void record(std::uint16_t port, int attempts, const Verdict& verdict) {
    PortResult result;
    result.port = port;
    result.state = verdict.state;
    result.reason = verdict.reason;
    result.attempts = attempts;
    results_[port] = std::move(result);
  }

  net::Address target_;
  ScanProtocol protocol_;
  const ScanOptions& options_;
  net::Epoll epoll_;
  ProbeSocket spare_;  // TCP: the socket for the next probe
  std::vector<Probe> slots_;
  std::vector<std::size_t> free_;
  std::deque<Todo> todo_;
  std::deque<Waiting> waiting_;  // in launch order, so deadlines are in order too
  std::map<std::uint16_t, PortResult> results_;
  Clock::time_point next_launch_;
  std::uint64_t serial_ = 0;
  int in_flight_ = 0;
  int probes_sent_ = 0;
  bool busy_ = false;
};

}  // namespace

Result<ProbeRun> run_probes(const net::Address& target, ScanProtocol protocol, std::span<const std::uint16_t> ports,
                            const ScanOptions& options) {
  auto epoll = net::Epoll::create();
  if (!epoll) return epoll.error();
  Scanner scanner(target, protocol, ports, options, std::move(*epoll));
  return scanner.run();
}

}  // namespace sockit::tools
