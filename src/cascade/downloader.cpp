// The peer's download side (cascade-protocol.md §3, client): one epoll loop over non-blocking
// connections. Every request is sent with its own send() (the course peer reads one request per
// recv); every answer is read as exactly 9 + length bytes.
#include "cascade/downloader.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>

#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <optional>
#include <random>
#include <set>

#include "cascade/hashing.hpp"
#include "cascade/tracker_client.hpp"
#include "net/byte_order.hpp"
#include "net/fd.hpp"
#include "net/io.hpp"
#include "net/socket.hpp"

namespace sockit::cascade {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::uint64_t kStopId = 0;
constexpr std::uint64_t kMaxMessage = 64 * 1024;  // longest error message we accept from a peer
constexpr milliseconds kLackRetry{1000};           // ask a peer again for a block it lacked
constexpr milliseconds kMissPause{250};            // a peer that lacks everything we ask for
constexpr int kReadsPerEvent = 16;                  // recv calls on one connection per wake-up

struct Swarm;

struct Conn {
  std::uint64_t id = 0;
  Swarm* swarm = nullptr;
  Endpoint peer;
  net::Socket socket;
  bool connecting = true;
  Clock::time_point started;
  Clock::time_point last_progress;
  std::deque<std::uint64_t> inflight;  // requested blocks, in the order the answers come
  std::vector<std::byte> outbuf;       // whole requests not yet sent
  std::size_t out_sent = 0;
  std::array<std::byte, kBlockHeaderSize> header{};
  std::size_t header_got = 0;
  bool in_body = false;
  bool stray = false;  // reading a status-4 message that answers no request of ours
  std::vector<std::byte> body;
  std::size_t body_got = 0;
  std::size_t scan = 0;                                 // where this connection looks in swarm->order
  std::map<std::uint64_t, Clock::time_point> lacks;     // block -> when to ask this peer again
  std::size_t misses = 0;
  Clock::time_point pause_until{};
  std::uint32_t interest = 0;
};

struct PeerState {
  bool banned = false;
  bool connected = false;
  int failures = 0;
  Clock::time_point retry_at{};
};

struct Swarm {
  std::shared_ptr<SharedFile> file;
  FileReport report;
  std::vector<std::uint8_t> copies;  // requests in flight per block
  std::set<std::uint64_t> requested;  // blocks not held with copies > 0
  std::vector<std::uint64_t> order;   // the blocks still missing, in random order
  std::map<Endpoint, PeerState> peers;
  std::size_t connections = 0;
  std::size_t depth = 2;
  Clock::time_point next_list{};
  Clock::time_point next_subscribe{};
  bool done = false;
};

class Loop {
 public:
  Loop(const DownloadOptions& options, const std::function<void(const std::string&)>& event,
       const std::function<void(const Progress&)>& progress)
      : options_(options), self_(options.self), event_(event), progress_(progress) {}

  net::Result<std::vector<FileReport>> run(const std::vector<std::shared_ptr<SharedFile>>& files,
                                           serve::StopSignal& stop) {
    epoll_ = net::Fd(::epoll_create1(EPOLL_CLOEXEC));
    if (!epoll_) return net::errno_error("epoll_create1");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kStopId;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, stop.fd(), &ev) < 0) return net::errno_error("epoll_ctl");

    std::mt19937_64 random(std::random_device{}());
    for (const auto& file : files) {
      auto swarm = std::make_unique<Swarm>();
      swarm->file = file;
      const auto& d = file->description();
      swarm->report.path = file->path();
      swarm->report.blocks = d.block_count();
      swarm->report.resumed = file->held();
      swarm->copies.assign(d.block_count(), 0);
      for (std::uint64_t i = 0; i < d.block_count(); ++i)
        if (!file->has(i)) swarm->order.push_back(i);
      std::shuffle(swarm->order.begin(), swarm->order.end(), random);
      swarm->depth = std::clamp<std::size_t>(options_.bytes_in_flight / std::max<std::uint64_t>(1, d.block_size), 2, 32);
      if (swarm->report.resumed > 0)
        say(fmt::format("{}: {} of {} blocks already valid", file->path(), swarm->report.resumed, d.block_count()));
      swarms_.push_back(std::move(swarm));
    }
    for (auto& swarm : swarms_) {
      if (swarm->file->complete()) {
        if (!finish(*swarm)) return *fatal_;
      } else {
        ask_tracker_for(*swarm, TrackerCommand::subscribe);
      }
    }

    std::array<epoll_event, 64> events{};
    auto last_progress = Clock::now();
    while (!fatal_ && !stop.requested() &&
           !std::all_of(swarms_.begin(), swarms_.end(), [](const auto& s) { return s->done; })) {
      tick();
      const int n = ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), 100);
      if (n < 0 && errno != EINTR) return net::errno_error("epoll_wait");
      for (int i = 0; i < n; ++i) {
        if (events[i].data.u64 == kStopId) continue;
        auto found = conns_.find(events[i].data.u64);
        if (found != conns_.end()) handle(*found->second, events[i].events);
      }
      const auto now = Clock::now();
      if (now - last_progress >= options_.progress_interval) {
        report_progress(now - last_progress);
        last_progress = now;
      }
    }
    report_progress(Clock::now() - last_progress);
    while (!conns_.empty()) close(*conns_.begin()->second);
    if (fatal_) return *fatal_;
    std::vector<FileReport> reports;
    for (const auto& swarm : swarms_) reports.push_back(swarm->report);
    return reports;
  }

 private:
  void say(const std::string& line) {
    if (event_) event_(line);
  }

  // ---- tracker and connections ----

  void ask_tracker_for(Swarm& swarm, TrackerCommand command) {
    const auto now = Clock::now();
    auto answer = ask_tracker(options_.tracker, command, swarm.file->description().cascade_hash, self_,
                              options_.tracker_timeout);
    swarm.next_list = now + options_.list_interval;
    if (command == TrackerCommand::subscribe) swarm.next_subscribe = now + options_.resubscribe_interval;
    if (!answer) {
      say(fmt::format("tracker {}: {}", options_.tracker.to_string(), answer.error().what()));
      return;
    }
    std::size_t fresh = 0;
    for (const auto& entry : *answer) {
      if (entry.endpoint == self_ || entry.endpoint.port == 0) continue;
      fresh += swarm.peers.try_emplace(entry.endpoint).second ? 1 : 0;
    }
    say(fmt::format("tracker: {} peers for {} ({} new)", answer->size(), swarm.file->path(), fresh));
  }

  void tick() {
    const auto now = Clock::now();
    for (auto& swarm : swarms_) {
      if (swarm->done) continue;
      if (now >= swarm->next_subscribe) ask_tracker_for(*swarm, TrackerCommand::subscribe);
      else if (now >= swarm->next_list) ask_tracker_for(*swarm, TrackerCommand::list);
      for (auto& [endpoint, state] : swarm->peers) {
        if (swarm->connections >= options_.max_peers) break;
        if (state.banned || state.connected || state.retry_at > now) continue;
        open(*swarm, endpoint, state);
      }
    }
    std::vector<std::uint64_t> expired, idle;
    for (auto& [id, conn] : conns_) {
      if (conn->connecting && now - conn->started > options_.connect_timeout) expired.push_back(id);
      else if (!conn->connecting && !conn->inflight.empty() && now - conn->last_progress > options_.stall_timeout)
        expired.push_back(id);
      else if (!conn->connecting && conn->inflight.empty()) idle.push_back(id);
    }
    // Looked up again: failing one connection never frees another, but stay safe.
    for (auto id : expired)
      if (auto found = conns_.find(id); found != conns_.end())
        fail(*found->second, found->second->connecting ? "connect timed out" : "stalled", false);
    for (auto id : idle)
      if (auto found = conns_.find(id); found != conns_.end()) refill(*found->second);
  }

  void open(Swarm& swarm, Endpoint endpoint, PeerState& state) {
    const auto now = Clock::now();
    auto socket = net::Socket::create(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
    if (!socket) {
      fatal_ = socket.error();
      return;
    }
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(endpoint.port);
    to.sin_addr.s_addr = htonl(endpoint.ip);
    if (::connect(socket->fd(), reinterpret_cast<sockaddr*>(&to), sizeof to) < 0 && errno != EINPROGRESS) {
      state.failures++;
      state.retry_at = now + backoff(state.failures);
      say(fmt::format("peer {}: connect failed: {}", endpoint.to_string(), std::strerror(errno)));
      return;
    }
    auto conn = std::make_unique<Conn>();
    conn->id = ++next_id_;
    conn->swarm = &swarm;
    conn->peer = endpoint;
    conn->socket = std::move(*socket);
    conn->started = now;
    conn->last_progress = now;
    conn->scan = static_cast<std::size_t>(conn->id * 7919) % std::max<std::size_t>(1, swarm.order.size());
    epoll_event ev{};
    ev.events = EPOLLOUT | EPOLLIN;
    ev.data.u64 = conn->id;
    conn->interest = ev.events;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, conn->socket.fd(), &ev) < 0) {
      fatal_ = net::errno_error("epoll_ctl");
      return;
    }
    state.connected = true;
    swarm.connections++;
    conns_.emplace(conn->id, std::move(conn));
  }

  static milliseconds backoff(int failures) {
    return std::min<milliseconds>(milliseconds(30000), milliseconds(250L << std::min(failures, 7)));
  }

  // Forgets the connection: its blocks go back to the pool. `ban` keeps the peer away for the
  // rest of the run (it sent a bad block); otherwise it may be tried again after a back-off.
  void fail(Conn& conn, const std::string& reason, bool ban) {
    auto& state = conn.swarm->peers[conn.peer];
    if (ban) {
      state.banned = true;
      say(fmt::format("dropped peer {}: {}", conn.peer.to_string(), reason));
    } else {
      state.failures++;
      state.retry_at = Clock::now() + backoff(state.failures);
      say(fmt::format("lost peer {}: {}", conn.peer.to_string(), reason));
    }
    close(conn);
  }

  void close(Conn& conn) {
    auto& swarm = *conn.swarm;
    for (auto index : conn.inflight) release(swarm, index);
    swarm.peers[conn.peer].connected = false;
    swarm.connections--;
    conns_.erase(conn.id);  // closing the socket takes it out of the epoll set
  }

  // ---- requests ----

  void release(Swarm& swarm, std::uint64_t index) {
    if (swarm.copies[index] > 0 && --swarm.copies[index] == 0) swarm.requested.erase(index);
  }

  bool lacked(Conn& conn, std::uint64_t index, Clock::time_point now) {
    auto found = conn.lacks.find(index);
    if (found == conn.lacks.end()) return false;
    if (found->second > now) return true;
    conn.lacks.erase(found);
    return false;
  }

  bool asked(const Conn& conn, std::uint64_t index) const {
    return std::find(conn.inflight.begin(), conn.inflight.end(), index) != conn.inflight.end();
  }

  std::optional<std::uint64_t> pick(Conn& conn, Clock::time_point now) {
    auto& swarm = *conn.swarm;
    const auto& file = *swarm.file;
    for (int pass = 0; pass < 2; ++pass) {
      const auto size = swarm.order.size();
      for (std::size_t step = 0; step < size; ++step) {
        conn.scan = (conn.scan + 1) % size;
        const auto index = swarm.order[conn.scan];
        if (!file.has(index) && swarm.copies[index] == 0 && !lacked(conn, index, now)) return index;
      }
      if (pass == 0) {  // nothing fresh: drop the held blocks from the order and look once more
        std::erase_if(swarm.order, [&](std::uint64_t i) { return file.has(i); });
        if (swarm.order.size() == size) break;
      }
    }
    // End-game: every missing block is requested somewhere; ask a second peer for the ones
    // still in flight so that one slow peer cannot hold up the end.
    const auto missing = file.description().block_count() - file.held();
    if (missing > swarm.requested.size()) return std::nullopt;
    for (auto index : swarm.requested)
      if (swarm.copies[index] < 2 && !file.has(index) && !asked(conn, index) && !lacked(conn, index, now)) return index;
    return std::nullopt;
  }

  void refill(Conn& conn) {
    auto& swarm = *conn.swarm;
    const auto now = Clock::now();
    if (conn.connecting || swarm.done || now < conn.pause_until) return;
    const bool was_idle = conn.inflight.empty();
    while (conn.inflight.size() < swarm.depth) {
      auto index = pick(conn, now);
      if (!index) break;
      if (swarm.copies[*index]++ == 0) swarm.requested.insert(*index);
      conn.inflight.push_back(*index);
      const auto request = encode_block_request({*index, swarm.file->description().cascade_hash});
      conn.outbuf.insert(conn.outbuf.end(), request.begin(), request.end());
    }
    if (was_idle && !conn.inflight.empty()) conn.last_progress = now;
    flush(conn);
  }

  // Sends pending requests, each with its own send(): never two requests, or half a request,
  // in one call.
  bool flush(Conn& conn) {
    while (conn.out_sent < conn.outbuf.size()) {
      const auto room = kBlockRequestSize - conn.out_sent % kBlockRequestSize;
      auto sent = net::try_send(conn.socket.fd(), std::span(conn.outbuf).subspan(conn.out_sent, room));
      if (!sent) {
        fail(conn, sent.error().what(), false);
        return false;
      }
      if (!*sent) break;
      conn.out_sent += **sent;
    }
    if (conn.out_sent == conn.outbuf.size()) {
      conn.outbuf.clear();
      conn.out_sent = 0;
    }
    return update_interest(conn);
  }

  bool update_interest(Conn& conn) {
    const std::uint32_t want = EPOLLIN | (conn.connecting || !conn.outbuf.empty() ? EPOLLOUT : 0u);
    if (want == conn.interest) return true;
    epoll_event ev{};
    ev.events = want;
    ev.data.u64 = conn.id;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, conn.socket.fd(), &ev) < 0) {
      fatal_ = net::errno_error("epoll_ctl");
      return false;
    }
    conn.interest = want;
    return true;
  }

  // ---- answers ----

  void handle(Conn& conn, std::uint32_t events) {
    if (conn.connecting) {
      if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
      auto error = conn.socket.pending_error();
      if (!error || *error != 0) {
        fail(conn, fmt::format("connect failed: {}", std::strerror(error ? *error : errno)), false);
        return;
      }
      conn.connecting = false;
      conn.swarm->peers[conn.peer].failures = 0;
      const int one = 1;
      ::setsockopt(conn.socket.fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      say(fmt::format("connected to peer {}", conn.peer.to_string()));
      refill(conn);
      return;
    }
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
      if (!read(conn)) return;
    if (events & EPOLLOUT) flush(conn);
  }

  // Reads what has arrived, up to kReadsPerEvent recv calls so that one fast peer cannot
  // starve the others (epoll is level-triggered: the rest is reported again). False when the
  // connection is gone.
  bool read(Conn& conn) {
    for (int reads = 0; reads < kReadsPerEvent;) {
      std::span<std::byte> into = conn.in_body ? std::span(conn.body).subspan(conn.body_got)
                                               : std::span(conn.header).subspan(conn.header_got);
      if (into.empty()) {  // a zero-length body
        if (!answered(conn)) return false;
        continue;
      }
      auto got = net::try_recv(conn.socket.fd(), into);
      ++reads;
      if (!got) {
        fail(conn, got.error().what(), false);
        return false;
      }
      if (!*got) return true;
      if (**got == 0) {
        fail(conn, conn.in_body ? "closed the connection in the middle of a block" : "closed the connection", false);
        return false;
      }
      conn.last_progress = Clock::now();
      if (conn.in_body) {
        conn.body_got += **got;
        if (conn.body_got == conn.body.size() && !answered(conn)) return false;
      } else {
        conn.header_got += **got;
        if (conn.header_got == kBlockHeaderSize && !start_body(conn)) return false;
      }
    }
    return true;
  }

  bool start_body(Conn& conn) {
    const auto status = std::to_integer<unsigned>(conn.header[0]);
    const auto length = net::load_u64(conn.header.data() + 1);
    conn.header_got = 0;
    if (conn.inflight.empty()) {
      // The course peer sends one stray status-4 message after a close: read it, ignore it.
      if (status != static_cast<unsigned>(BlockStatus::malformed) || length > kMaxMessage) {
        fail(conn, fmt::format("answer (status {}) to no request", status), false);
        return false;
      }
      conn.stray = true;
    } else if (status == 0) {
      const auto expected = conn.swarm->file->description().block_length(conn.inflight.front());
      if (length != expected) {
        fail(conn, fmt::format("block {} of {} bytes (expected {})", conn.inflight.front(), length, expected), true);
        return false;
      }
    } else if (length > kMaxMessage) {
      fail(conn, fmt::format("status {} with a {}-byte message", status, length), false);
      return false;
    }
    conn.body.resize(length);
    conn.body_got = 0;
    conn.in_body = true;
    return true;
  }

  // A whole answer (header and body) has arrived.
  bool answered(Conn& conn) {
    const auto id = conn.id;  // `conn` may be gone after refill()
    conn.in_body = false;
    auto& swarm = *conn.swarm;
    const auto status = std::to_integer<unsigned>(conn.header[0]);
    if (conn.stray) {
      conn.stray = false;
      return true;
    }
    const auto index = conn.inflight.front();
    conn.inflight.pop_front();
    release(swarm, index);
    if (status == static_cast<unsigned>(BlockStatus::missing)) {
      conn.lacks[index] = Clock::now() + kLackRetry;
      if (++conn.misses >= swarm.depth) {
        conn.misses = 0;
        conn.pause_until = Clock::now() + kMissPause;
      }
      refill(conn);
      return conns_.contains(id);
    }
    if (status != 0) {
      fail(conn, fmt::format("status {}: {}", status, net::as_text(conn.body)), false);
      return false;
    }
    conn.misses = 0;
    auto& file = *swarm.file;
    if (sha256(conn.body) != file.description().block_hashes[index]) {
      swarm.report.bad_blocks++;
      swarm.report.dropped.push_back(conn.peer);
      fail(conn, fmt::format("block {} failed its SHA-256 check", index), true);
      return false;
    }
    if (file.has(index)) {
      swarm.report.duplicates++;
    } else {
      if (auto written = file.write_block(index, conn.body); !written) {
        fatal_ = written.error();
        return false;
      }
      swarm.report.fetched++;
      swarm.report.blocks_from[conn.peer]++;
      bytes_fetched_ += conn.body.size();
      say(fmt::format("block {} from {}", index, conn.peer.to_string()));
      if (file.complete()) {
        finish(swarm);
        return false;
      }
    }
    refill(conn);
    return conns_.contains(id);
  }

  // Every block is held: check the whole file against the target hash, close the swarm's
  // connections. False on a fatal error.
  bool finish(Swarm& swarm) {
    swarm.done = true;
    std::vector<Conn*> mine;
    for (auto& [id, conn] : conns_)
      if (conn->swarm == &swarm) mine.push_back(conn.get());
    for (auto* conn : mine) close(*conn);
    const auto& d = swarm.file->description();
    auto target = hash_file_prefix(swarm.file->fd(), d.target_size);
    if (!target) {
      fatal_ = target.error();
      return false;
    }
    if (*target != d.target_hash) {
      fatal_ = net::Error("check target hash", net::Errc::protocol, swarm.file->path(),
                          "every block matches but the whole file does not: the cascade file is inconsistent");
      return false;
    }
    swarm.report.complete = true;
    swarm.report.target_verified = true;
    say(fmt::format("complete: {} ({} blocks, target hash verified)", swarm.file->path(), d.block_count()));
    return true;
  }

  void report_progress(Clock::duration elapsed) {
    if (!progress_) return;
    Progress p;
    for (const auto& swarm : swarms_) {
      const auto& d = swarm->file->description();
      p.blocks_total += d.block_count();
      p.blocks_held += swarm->file->held();
      p.bytes_total += d.target_size;
      p.bytes_held += std::min<std::uint64_t>(d.target_size, swarm->file->held() * d.block_size);
    }
    p.peers = conns_.size();
    const double seconds = std::chrono::duration<double>(elapsed).count();
    const double now_rate = seconds > 0 ? static_cast<double>(bytes_fetched_ - bytes_at_last_) / seconds : 0;
    rate_ = rate_ == 0 ? now_rate : 0.7 * rate_ + 0.3 * now_rate;
    bytes_at_last_ = bytes_fetched_;
    p.bytes_per_second = rate_;
    progress_(p);
  }

  const DownloadOptions& options_;
  Endpoint self_;
  const std::function<void(const std::string&)>& event_;
  const std::function<void(const Progress&)>& progress_;
  net::Fd epoll_;
  std::vector<std::unique_ptr<Swarm>> swarms_;
  std::map<std::uint64_t, std::unique_ptr<Conn>> conns_;
  std::uint64_t next_id_ = 0;
  std::optional<net::Error> fatal_;
  std::uint64_t bytes_fetched_ = 0;
  std::uint64_t bytes_at_last_ = 0;
  double rate_ = 0;
};

}  // namespace

Downloader::Downloader(DownloadOptions options, std::function<void(const std::string&)> event,
                       std::function<void(const Progress&)> progress)
    : options_(std::move(options)), event_(std::move(event)), progress_(std::move(progress)) {}

net::Result<std::vector<FileReport>> Downloader::run(const std::vector<std::shared_ptr<SharedFile>>& files,
                                                     serve::StopSignal& stop) {
  Loop loop(options_, event_, progress_);
  return loop.run(files, stop);
}

}  // namespace sockit::cascade
