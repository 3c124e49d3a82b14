// The peer's download side: one event loop (net::Epoll) over non-blocking connections to peers
// (PeerConnection) and to the tracker (TrackerExchange); a BlockPicker per file says what to ask
// whom. This file only schedules: when to ask the tracker, which peers to connect to, when a
// connection has stalled, and what a verified block means for a file.
#include "cascade/downloader.hpp"

#include <sys/epoll.h>

#include <fmt/core.h>

#include <algorithm>
#include <optional>
#include <random>

#include "cascade/block_picker.hpp"
#include "cascade/hashing.hpp"
#include "cascade/peer_connection.hpp"
#include "cascade/tracker_exchange.hpp"
#include "net/epoll.hpp"
#include "net/io.hpp"

namespace sockit::cascade {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kLackRetry{1000};  // ask a peer again for a block it lacked
constexpr milliseconds kMissPause{250};   // a peer that lacks everything we ask for
constexpr int kTickMs = 100;              // timeouts and retries are checked this often

// What an epoll tag points at (tag 0 is the stop signal).
struct Watched {
  enum class Kind { peer, tracker };
  explicit Watched(Kind k) : kind(k) {}
  Kind kind;
  std::uint32_t registered = 0;  // the events epoll watches for now
};

struct Swarm;

struct Conn : Watched {
  Conn(Swarm& s, PeerConnection l) : Watched(Kind::peer), swarm(&s), link(std::move(l)) {}
  Swarm* swarm;
  PeerConnection link;
  std::size_t misses = 0;  // status-2 answers in a row
  Clock::time_point pause_until{};
};

struct TrackerSlot : Watched {
  explicit TrackerSlot(Swarm& s) : Watched(Kind::tracker), swarm(&s) {}
  Swarm* swarm;
  std::optional<TrackerExchange> exchange;  // at most one exchange per file at a time
  Clock::time_point deadline{};
  bool closing = false;
};

struct PeerState {
  bool connected = false;
  int failures = 0;
  Clock::time_point retry_at{};
};

struct Swarm {
  Swarm(std::shared_ptr<SharedFile> f, std::uint64_t seed)
      : file(std::move(f)), picker(held_blocks(*file), seed, {.lack_retry = kLackRetry}), tracker(*this) {}

  static std::vector<bool> held_blocks(const SharedFile& file) {
    std::vector<bool> held(file.description().block_count());
    for (std::uint64_t i = 0; i < held.size(); ++i) held[i] = file.has(i);
    return held;
  }

  std::shared_ptr<SharedFile> file;
  FileReport report;
  BlockPicker picker;
  std::map<Endpoint, PeerState> peers;
  std::size_t connections = 0;
  std::size_t depth = 2;  // requests in flight per connection
  TrackerSlot tracker;
  Clock::time_point next_list{};
  Clock::time_point next_subscribe{};
  bool done = false;
};

std::uint64_t tag_of(Watched& watched) { return reinterpret_cast<std::uint64_t>(&watched); }

milliseconds backoff(int failures) {
  return std::min<milliseconds>(milliseconds(30000), milliseconds(250L << std::min(failures, 7)));
}

class Loop {
 public:
  Loop(const DownloadOptions& options, const std::function<void(const std::string&)>& event,
       const std::function<void(const Progress&)>& progress, net::Epoll epoll)
      : options_(options), self_(options.self), event_(event), progress_(progress), epoll_(std::move(epoll)) {}

  net::Result<std::vector<FileReport>> run(const std::vector<std::shared_ptr<SharedFile>>& files,
                                           serve::StopSignal& stop) {
    if (auto watched = epoll_.add(stop.fd(), EPOLLIN, 0); !watched) return watched.error();
    std::random_device entropy;
    for (const auto& file : files) {
      const std::uint64_t seed = (std::uint64_t{entropy()} << 32) ^ entropy();
      auto swarm = std::make_unique<Swarm>(file, seed);
      const auto& d = file->description();
      swarm->report.path = file->path();
      swarm->report.blocks = d.block_count();
      swarm->report.resumed = file->held();
      swarm->depth =
          std::clamp<std::size_t>(options_.bytes_in_flight / std::max<std::uint64_t>(1, d.block_size), 2, 32);
      if (swarm->report.resumed > 0)
        say(fmt::format("{}: {} of {} blocks already valid", file->path(), swarm->report.resumed, d.block_count()));
      swarms_.push_back(std::move(swarm));
    }
    for (auto& swarm : swarms_)
      if (swarm->file->complete() && !finish(*swarm)) return *fatal_;

    // Bounded by `stop` and by the files: each pass waits at most kTickMs.
    auto last_progress = Clock::now();
    while (!fatal_ && !stop.requested() &&
           !std::all_of(swarms_.begin(), swarms_.end(), [](const auto& s) { return s->done; })) {
      tick(Clock::now());
      reap();
      auto ready = epoll_.wait(kTickMs);
      if (!ready) return ready.error();
      for (const auto& event : *ready)
        if (event.data.u64 != 0) dispatch(*reinterpret_cast<Watched*>(event.data.u64), event.events);
      reap();  // the safe point: nothing of this dispatch refers to a connection any more
      const auto now = Clock::now();
      if (now - last_progress >= options_.progress_interval) {
        report_progress(now - last_progress);
        last_progress = now;
      }
    }
    report_progress(Clock::now() - last_progress);
    if (fatal_) return *fatal_;
    std::vector<FileReport> reports;
    for (const auto& swarm : swarms_) reports.push_back(swarm->report);
    return reports;
  }

 private:
  void say(const std::string& line) {
    if (event_) event_(line);
  }

  void watch(Watched& watched, int fd, std::uint32_t events) {
    if (auto added = epoll_.add(fd, events, tag_of(watched)); !added) fatal_ = added.error();
    watched.registered = events;
  }

  void rewatch(Watched& watched, int fd, std::uint32_t events) {
    if (events == watched.registered) return;
    if (auto changed = epoll_.modify(fd, events, tag_of(watched)); !changed) fatal_ = changed.error();
    watched.registered = events;
  }

  void dispatch(Watched& watched, std::uint32_t events) {
    if (watched.kind == Watched::Kind::tracker) {
      auto& slot = static_cast<TrackerSlot&>(watched);
      if (!slot.closing && slot.exchange) on_tracker(slot, events);
      return;
    }
    auto& conn = static_cast<Conn&>(watched);
    if (!conn.link.closing()) on_peer(conn, events);
  }

  // ---- the tracker ----

  void start_exchange(Swarm& swarm, TrackerCommand command, Clock::time_point now) {
    swarm.next_list = now + options_.list_interval;
    if (command == TrackerCommand::subscribe) swarm.next_subscribe = now + options_.resubscribe_interval;
    auto exchange = TrackerExchange::start(options_.tracker, command, swarm.file->description().cascade_hash, self_);
    if (!exchange) {
      say(fmt::format("tracker {}: {}", options_.tracker.to_string(), exchange.error().what()));
      return;
    }
    auto& slot = swarm.tracker;
    slot.exchange.emplace(std::move(*exchange));
    slot.deadline = now + options_.tracker_timeout;
    watch(slot, slot.exchange->fd(), slot.exchange->wants_write() ? EPOLLOUT : EPOLLIN);
  }

  void on_tracker(TrackerSlot& slot, std::uint32_t events) {
    auto outcome = slot.exchange->advance(events);
    if (!outcome) {
      rewatch(slot, slot.exchange->fd(), slot.exchange->wants_write() ? EPOLLOUT : EPOLLIN);
      return;
    }
    self_ = slot.exchange->self();
    slot.closing = true;
    if (!*outcome) {
      say(fmt::format("tracker {}: {}", options_.tracker.to_string(), outcome->error().what()));
      return;
    }
    auto& swarm = *slot.swarm;
    std::size_t fresh = 0;
    for (const auto& entry : **outcome) {
      if (entry.endpoint == self_ || entry.endpoint.port == 0) continue;
      fresh += swarm.peers.try_emplace(entry.endpoint).second ? 1 : 0;
    }
    say(fmt::format("tracker: {} peers for {} ({} new)", (*outcome)->size(), swarm.file->path(), fresh));
  }

  // ---- scheduling: runs between dispatches ----

  void tick(Clock::time_point now) {
    for (auto& swarm : swarms_) {
      if (swarm->done) continue;
      auto& slot = swarm->tracker;
      if (slot.exchange && !slot.closing && now >= slot.deadline) {
        say(fmt::format("tracker {}: no answer within {} ms", options_.tracker.to_string(),
                        options_.tracker_timeout.count()));
        slot.closing = true;
      }
      if (!slot.exchange) {
        if (now >= swarm->next_subscribe) start_exchange(*swarm, TrackerCommand::subscribe, now);
        else if (now >= swarm->next_list) start_exchange(*swarm, TrackerCommand::list, now);
      }
      for (auto& [endpoint, state] : swarm->peers) {
        if (swarm->connections >= options_.max_peers) break;
        if (state.connected || state.retry_at > now || swarm->picker.banned(endpoint)) continue;
        open(*swarm, endpoint, state, now);
      }
    }
    for (auto& conn : conns_) {
      auto& link = conn->link;
      if (link.closing()) continue;
      if (link.connecting()) {
        if (now - link.started() > options_.connect_timeout) link.close_later("connect timed out");
      } else if (link.in_flight() > 0) {
        if (now - link.last_progress() > options_.stall_timeout) link.close_later("stalled");
      } else {
        refill(*conn, now);  // idle: blocks lacked a while ago may be asked again
      }
    }
  }

  void open(Swarm& swarm, const Endpoint& endpoint, PeerState& state, Clock::time_point now) {
    auto link = PeerConnection::open(endpoint, now);
    if (!link) {
      state.failures++;
      state.retry_at = now + backoff(state.failures);
      say(fmt::format("peer {}: connect failed: {}", endpoint.to_string(), link.error().code().message()));
      return;
    }
    auto& conn = *conns_.emplace_back(std::make_unique<Conn>(swarm, std::move(*link)));
    state.connected = true;
    swarm.connections++;
    watch(conn, conn.link.fd(), conn.link.interest());
    if (!conn.link.connecting()) connected(conn, now);
  }

  void connected(Conn& conn, Clock::time_point now) {
    conn.swarm->peers[conn.link.peer()].failures = 0;
    say(fmt::format("connected to peer {}", conn.link.peer().to_string()));
    refill(conn, now);
  }

  // Asks the connection's peer for blocks until `depth` are in flight, and sends the requests.
  void refill(Conn& conn, Clock::time_point now) {
    auto& swarm = *conn.swarm;
    auto& link = conn.link;
    if (link.connecting() || link.closing() || swarm.done || now < conn.pause_until) return;
    const auto& d = swarm.file->description();
    while (link.in_flight() < swarm.depth) {
      auto index = swarm.picker.pick(link.peer(), now);
      if (!index) break;
      link.request(*index, d.block_length(*index), d.cascade_hash, now);
    }
    link.flush();
    if (!link.closing()) rewatch(conn, link.fd(), link.interest());
  }

  // ---- a connection's events ----

  void on_peer(Conn& conn, std::uint32_t events) {
    auto& link = conn.link;
    const auto now = Clock::now();
    if (link.connecting()) {
      if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
      if (auto done = link.finish_connect(now); !done)
        return link.close_later(fmt::format("connect failed: {}", done.error().code().message()));
      return connected(conn, now);
    }
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
      link.read_some(now, [&](const PeerConnection::Answer& answer) { answered(conn, answer, now); });
    if (events & EPOLLOUT) link.flush();
    if (!link.closing()) rewatch(conn, link.fd(), link.interest());
  }

  void answered(Conn& conn, const PeerConnection::Answer& answer, Clock::time_point now) {
    auto& swarm = *conn.swarm;
    auto& link = conn.link;
    const auto& peer = link.peer();
    if (answer.status == static_cast<std::uint8_t>(BlockStatus::missing)) {
      swarm.picker.lacks(peer, answer.index, now);
      if (++conn.misses >= swarm.depth) {
        conn.misses = 0;
        conn.pause_until = now + kMissPause;
      }
      return refill(conn, now);
    }
    if (answer.status != 0)
      return link.close_later(fmt::format("status {}: {}", answer.status, net::as_text(answer.body)));
    conn.misses = 0;
    auto& file = *swarm.file;
    // On the loop: about a millisecond per MiB with the CPU's SHA extensions (OpenSSL).
    if (sha256(answer.body) != file.description().block_hashes[answer.index]) {
      swarm.report.bad_blocks++;
      return link.close_later(fmt::format("block {} failed its SHA-256 check", answer.index), true);
    }
    if (swarm.picker.held(answer.index)) {
      swarm.picker.delivered(peer, answer.index);
      swarm.report.duplicates++;
      return refill(conn, now);
    }
    if (auto written = file.write_block(answer.index, answer.body); !written) {
      fatal_ = written.error();
      return link.close_later("");
    }
    swarm.picker.delivered(peer, answer.index);
    swarm.report.fetched++;
    swarm.report.blocks_from[peer]++;
    bytes_fetched_ += answer.body.size();
    say(fmt::format("block {} from {}", answer.index, peer.to_string()));
    if (swarm.picker.complete()) {
      finish(swarm);
      return;
    }
    refill(conn, now);
  }

  // ---- the safe point ----

  // Destroys what was closed since the last call (closing a socket takes it out of the epoll
  // set) and draws the consequences: blocks back to the pool, the peer banned or retried later.
  void reap() {
    const auto now = Clock::now();
    for (auto& swarm : swarms_) {
      auto& slot = swarm->tracker;
      if (!slot.closing) continue;
      slot.exchange.reset();
      slot.closing = false;
    }
    std::erase_if(conns_, [&](const std::unique_ptr<Conn>& conn) {
      auto& link = conn->link;
      if (!link.closing()) return false;
      auto& swarm = *conn->swarm;
      const auto& peer = link.peer();
      auto& state = swarm.peers[peer];
      if (link.ban()) {
        swarm.picker.ban(peer);
        swarm.report.dropped.push_back(peer);
        say(fmt::format("dropped peer {}: {}", peer.to_string(), link.close_reason()));
      } else {
        swarm.picker.lost(peer);
        if (!link.close_reason().empty()) {
          state.failures++;
          state.retry_at = now + backoff(state.failures);
          say(fmt::format("lost peer {}: {}", peer.to_string(), link.close_reason()));
        }
      }
      state.connected = false;
      swarm.connections--;
      return true;
    });
  }

  // Every block is held: close the swarm's connections (at the safe point), check the whole file
  // against the target hash. False on a fatal error.
  bool finish(Swarm& swarm) {
    swarm.done = true;
    for (auto& conn : conns_)
      if (conn->swarm == &swarm) conn->link.close_later("");
    if (swarm.tracker.exchange) swarm.tracker.closing = true;
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
  net::Epoll epoll_;
  std::vector<std::unique_ptr<Swarm>> swarms_;
  std::vector<std::unique_ptr<Conn>> conns_;
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
  auto epoll = net::Epoll::create(64);
  if (!epoll) return epoll.error();
  Loop loop(options_, event_, progress_, std::move(*epoll));
  return loop.run(files, stop);
}

}  // namespace sockit::cascade
