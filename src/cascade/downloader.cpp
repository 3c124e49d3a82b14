// The peer's download side: one event loop (net::Epoll) over non-blocking connections to peers
// (PeerConnection) and to the tracker (TrackerExchange). Each file is a Swarm (which blocks to ask
// whom, its peers, what a verified block means); this file only plumbs events: it dispatches
// readiness, schedules tracker exchanges and connections, times them out, and closes
// connections at one safe point after each dispatch.
#include "cascade/downloader.hpp"

#include <sys/epoll.h>

#include <fmt/core.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "cascade/downloader_swarm.hpp"
#include "cascade/downloader_window.hpp"
#include "cascade/peer_connection.hpp"
#include "cascade/tracker_exchange.hpp"
#include "net/epoll.hpp"
#include "net/io.hpp"
#include "net/text.hpp"

namespace sockit::cascade {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int kTickMs = 100;             // timeouts and retries are checked this often

// What an epoll tag points at (tag 0 is the stop signal).
struct Watched {
  enum class Kind { peer, tracker };
  explicit Watched(Kind k) : kind(k) {}
  Kind kind;
  std::uint32_t registered = 0;  // the events epoll watches for now
};

struct Download;

struct Conn : Watched {
  Conn(Download& d, PeerConnection l, RequestWindow w)
      : Watched(Kind::peer), download(&d), link(std::move(l)), window(w) {}
  Download* download;
  PeerConnection link;
  RequestWindow window;
};

struct TrackerSlot : Watched {
  explicit TrackerSlot(Download& d) : Watched(Kind::tracker), download(&d) {}
  Download* download;
  std::optional<TrackerExchange> exchange;  // at most one exchange per file at a time
  Clock::time_point deadline{};
  bool closing = false;
};

// One file: its swarm and its tracker exchange.
struct Download {
  Download(std::shared_ptr<SharedFile> file, Endpoint self, std::size_t depth)
      : swarm(std::move(file), self, depth), tracker(*this) {}
  Swarm swarm;
  TrackerSlot tracker;
};

std::uint64_t tag_of(Watched& watched) { return reinterpret_cast<std::uint64_t>(&watched); }

class Loop {
 public:
  Loop(const DownloadOptions& options, const std::function<void(const std::string&)>& event,
       const std::function<void(const Progress&)>& progress, net::Epoll epoll)
      : options_(options), self_(options.self), event_(event), progress_(progress), epoll_(std::move(epoll)) {}

  net::Result<std::vector<FileReport>> run(const std::vector<std::shared_ptr<SharedFile>>& files,
                                           serve::StopSignal& stop) {
    if (auto watched = epoll_.add(stop.fd(), EPOLLIN, 0); !watched) return watched.error();
    for (const auto& file : files) {
      const auto& d = file->description();
      const auto depth =
          std::clamp<std::size_t>(options_.bytes_in_flight / std::max<std::uint64_t>(1, d.block_size), 2, 32);
      if (file->held() > 0)
        say(fmt::format("{}: {} of {} already valid", file->path(), file->held(),
                        net::counted(d.block_count(), "block")));
      downloads_.push_back(std::make_unique<Download>(file, self_, depth));
    }
    for (auto& download : downloads_)
      if (download->swarm.file().complete()) finish(*download);
    verify_finished();
    if (fatal_) return *fatal_;

    // Bounded by `stop` and by the files: each pass waits at most kTickMs.
    auto last_progress = Clock::now();
    while (!fatal_ && !stop.requested() &&
           !std::all_of(downloads_.begin(), downloads_.end(), [](const auto& d) { return d->swarm.done(); })) {
      tick(Clock::now());
      reap();
      auto ready = epoll_.wait(kTickMs);
      if (!ready) return ready.error();
      for (const auto& event : *ready)
        if (event.data.u64 != 0) dispatch(*reinterpret_cast<Watched*>(event.data.u64), event.events);
      reap();  // the safe point: nothing of this dispatch refers to a connection any more
      verify_finished();
      const auto now = Clock::now();
      if (now - last_progress >= options_.progress_interval) {
        report_progress(now - last_progress);
        last_progress = now;
      }
    }
    report_progress(Clock::now() - last_progress);
    if (fatal_) return *fatal_;
    std::vector<FileReport> reports;
    for (const auto& download : downloads_) reports.push_back(download->swarm.report());
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

  // ---- scheduling: runs between dispatches ----

  void tick(Clock::time_point now) {
    for (auto& download : downloads_) {
      auto& swarm = download->swarm;
      if (swarm.done()) continue;
      auto& slot = download->tracker;
      if (slot.exchange && !slot.closing && now >= slot.deadline) {
        say(fmt::format("tracker {}: no answer within {} ms", options_.tracker.to_string(),
                        options_.tracker_timeout.count()));
        swarm.tracker_failed();
        slot.closing = true;
      }
      if (!slot.exchange)
        if (auto command = swarm.tracker_due(now, options_)) start_exchange(*download, *command, now);
      for (const auto& peer : swarm.peers_to_connect(now, options_.max_peers)) open(*download, peer, now);
    }
    for (auto& conn : conns_) {
      auto& link = conn->link;
      if (link.closing()) continue;
      conn->window.update(now);
      if (link.connecting()) {
        if (now - link.started() > options_.connect_timeout) link.close_later("connect timed out");
      } else if (link.in_flight() > 0) {
        if (now - link.last_progress() > options_.stall_timeout) link.close_later("stalled");
      } else {
        refill(*conn, now);  // idle: blocks lacked a while ago may be asked again
      }
    }
  }

  void start_exchange(Download& download, TrackerCommand command, Clock::time_point now) {
    const auto& hash = download.swarm.file().description().cascade_hash;
    auto exchange = TrackerExchange::start(options_.tracker, command, hash, self_);
    if (!exchange) {
      say(tracker_failure(options_.tracker, exchange.error()));
      download.swarm.tracker_failed();
      return;
    }
    auto& slot = download.tracker;
    slot.exchange.emplace(std::move(*exchange));
    slot.deadline = now + options_.tracker_timeout;
    watch(slot, slot.exchange->fd(), slot.exchange->wants_write() ? EPOLLOUT : EPOLLIN);
  }

  void open(Download& download, const Endpoint& peer, Clock::time_point now) {
    auto& swarm = download.swarm;
    auto link = PeerConnection::open(peer, now);
    if (!link) {
      swarm.connect_failed(peer, now);
      say(fmt::format("peer {}: connect failed: {}", peer.to_string(), link.error().code().message()));
      return;
    }
    auto& conn = *conns_.emplace_back(std::make_unique<Conn>(
        download, std::move(*link), RequestWindow(swarm.file().description().block_size, swarm.depth())));
    swarm.opened(peer, now);
    watch(conn, conn.link.fd(), conn.link.interest());
    if (!conn.link.connecting()) connected(conn, now);
  }

  void connected(Conn& conn, Clock::time_point now) {
    conn.download->swarm.connected(conn.link.peer());
    say(fmt::format("connected to peer {}", conn.link.peer().to_string()));
    refill(conn, now);
  }

  // Asks the connection's peer for blocks until `depth` are in flight, and sends the requests.
  void refill(Conn& conn, Clock::time_point now) {
    auto& swarm = conn.download->swarm;
    auto& link = conn.link;
    if (link.connecting() || link.closing() || swarm.done()) return;
    const auto& d = swarm.file().description();
    const auto depth = conn.window.depth(swarm.picker().role(link.peer()) == BlockPicker::Role::source);
    while (link.in_flight() < depth) {
      auto index = swarm.picker().pick(link.peer(), now);
      if (!index) break;
      link.request(*index, d.block_length(*index), d.cascade_hash, now);
    }
    link.flush();
    if (!link.closing()) rewatch(conn, link.fd(), link.interest());
  }

  // ---- events ----

  void on_tracker(TrackerSlot& slot, std::uint32_t events) {
    auto outcome = slot.exchange->advance(events);
    if (!outcome) return rewatch(slot, slot.exchange->fd(), slot.exchange->wants_write() ? EPOLLOUT : EPOLLIN);
    self_ = slot.exchange->self();
    for (auto& download : downloads_) download->swarm.picker().set_self(self_);
    slot.closing = true;
    auto& swarm = slot.download->swarm;
    if (!*outcome) {
      swarm.tracker_failed();
      return say(tracker_failure(options_.tracker, outcome->error()));
    }
    const auto fresh = swarm.add_peers(**outcome, self_);
    say(fmt::format("tracker: {} for {} ({} new)", net::counted((*outcome)->size(), "peer"), swarm.file().path(),
                    fresh));
  }

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
    auto& download = *conn.download;
    auto& swarm = download.swarm;
    auto& link = conn.link;
    const auto& peer = link.peer();
    const auto role = swarm.picker().role(peer);
    if (answer.status == static_cast<std::uint8_t>(BlockStatus::missing)) {
      swarm.picker().lacks(peer, answer.index, now);
      note_role(swarm, peer, role, answer.index);
      return refill(conn, now);
    }
    if (answer.status != 0)
      return link.close_later(fmt::format("status {}: {}", answer.status, net::printable(net::as_text(answer.body))));
    conn.window.received(answer.body.size());
    auto arrival = swarm.arrived(peer, answer.index, answer.body, now);
    if (!arrival) {
      fatal_ = arrival.error();
      return link.close_later("");
    }
    if (*arrival == Swarm::Arrival::bad)
      return link.close_later(fmt::format("block {} failed its SHA-256 check", answer.index), true);
    note_role(swarm, peer, role, answer.index);
    if (*arrival == Swarm::Arrival::fresh) {
      bytes_fetched_ += answer.body.size();
      say(fmt::format("block {} from {}", answer.index, peer.to_string()));
      if (swarm.picker().complete()) return finish(download);
    }
    refill(conn, now);
  }

  // What the picker concluded about a peer from its answer to `index`, when that is news.
  void note_role(Swarm& swarm, const Endpoint& peer, BlockPicker::Role before, std::uint64_t index) {
    const auto role = swarm.picker().role(peer);
    if (role == before) return;
    say(fmt::format("peer {}: {} (it {} block {})", peer.to_string(),
                    role == BlockPicker::Role::source ? "a source" : "a leecher",
                    role == BlockPicker::Role::source ? "had" : "lacks", index));
  }

  // ---- the safe point ----

  // Destroys what was closed since the last call (closing a socket takes it out of the epoll
  // set) and draws the consequences: blocks back to the pool, the peer banned or retried later.
  void reap() {
    const auto now = Clock::now();
    for (auto& download : downloads_) {
      auto& slot = download->tracker;
      if (!slot.closing) continue;
      slot.exchange.reset();
      slot.closing = false;
    }
    std::erase_if(conns_, [&](const std::unique_ptr<Conn>& conn) {
      const auto& link = conn->link;
      if (!link.closing()) return false;
      const bool quiet = link.close_reason().empty();
      conn->download->swarm.closed(link.peer(), link.ban(), quiet, now);
      if (!quiet)
        say(fmt::format("{} peer {}: {}", link.ban() ? "dropped" : "lost", link.peer().to_string(), link.close_reason()));
      return true;
    });
  }

  // Every block is held: the file's connections and tracker exchange close at the safe point,
  // after which verify_finished() checks the whole file (with their buffers freed).
  void finish(Download& download) {
    for (auto& conn : conns_)
      if (conn->download == &download) conn->link.close_later("");
    if (download.tracker.exchange) download.tracker.closing = true;
    finished_.push_back(&download);
  }

  // Reads each finished file back for its target hash (blocks the loop while it reads).
  void verify_finished() {
    for (auto* download : std::exchange(finished_, {})) {
      auto& swarm = download->swarm;
      if (auto checked = swarm.finish(); !checked) {
        fatal_ = checked.error();
        return;
      }
      say(fmt::format("complete: {} ({}, target hash verified)", swarm.file().path(),
                      net::counted(swarm.report().blocks, "block")));
    }
  }

  void report_progress(Clock::duration elapsed) {
    if (!progress_) return;
    Progress p;
    for (const auto& download : downloads_) {
      const auto& file = download->swarm.file();
      const auto& d = file.description();
      p.blocks_total += d.block_count();
      p.blocks_held += file.held();
      p.bytes_total += d.target_size;
      p.bytes_held += std::min<std::uint64_t>(d.target_size, file.held() * d.block_size);
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
  std::vector<std::unique_ptr<Download>> downloads_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::vector<Download*> finished_;  // complete, target hash not checked yet
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
