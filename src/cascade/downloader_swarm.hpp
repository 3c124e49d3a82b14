#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "cascade/block_picker.hpp"
#include "cascade/downloader.hpp"
#include "cascade/library.hpp"
#include "cascade/protocol.hpp"
#include "net/result.hpp"

namespace sockit::cascade {

/// One file being downloaded, as the Downloader's loop sees it: which blocks to ask whom (a
/// BlockPicker), the file's peers and their back-off, when to ask the tracker, and what a
/// verified block means for the file and its report. No sockets: its only I/O is the file's
/// (pwrite of a verified block, the final target hash). Not thread-safe: the loop owns it.
class Swarm {
 public:
  using Clock = std::chrono::steady_clock;

  /// Blocks the file already holds are never asked for; `self` is our endpoint as the other
  /// peers know it (BlockPicker's stripes); at most `depth` requests are kept in flight per
  /// connection.
  Swarm(std::shared_ptr<SharedFile> file, Endpoint self, std::size_t depth);

  SharedFile& file() noexcept { return *file_; }
  const FileReport& report() const noexcept { return report_; }
  BlockPicker& picker() noexcept { return picker_; }
  std::size_t depth() const noexcept { return depth_; }
  bool done() const noexcept { return done_; }

  // ---- the tracker ----

  /// The tracker request due at `now`, if any, counted as made: the next subscribe is due
  /// resubscribe_interval later; the lists after a subscribe come 250 ms, 500 ms, 1 s ... after
  /// each other (peers that joined just after us are soon known), up to list_interval apart. The
  /// first request is a subscribe.
  std::optional<TrackerCommand> tracker_due(Clock::time_point now, const DownloadOptions& options);
  /// The last exchange failed (no answer, refused, an error status): the tracker may have been
  /// restarted and forgotten us, so the next exchange, when due, is a subscribe.
  void tracker_failed() noexcept { next_subscribe_ = std::min(next_subscribe_, next_list_); }
  /// Adds the peers of a tracker answer, leaving out `self` and what unusable_endpoint() refuses
  /// (port 0, 0.0.0.0/8, broadcast, multicast); returns how many are new.
  std::size_t add_peers(const std::vector<PeerEntry>& entries, const Endpoint& self);

  // ---- peers and their connections ----

  /// Known peers to connect to at `now` (not connected, not banned, not backing off), so that
  /// at most `max_connections` are open.
  std::vector<Endpoint> peers_to_connect(Clock::time_point now, std::size_t max_connections) const;
  /// A connection to `peer` was opened (it counts against max_connections until closed(), and
  /// the picker counts it as a member of the swarm).
  void opened(const Endpoint& peer, Clock::time_point now);
  /// The connect to `peer` failed before a connection existed: retry after a back-off.
  void connect_failed(const Endpoint& peer, Clock::time_point now);
  /// The connection to `peer` is established: its back-off starts over.
  void connected(const Endpoint& peer);
  /// The connection to `peer` is gone: its requests go back to the pool. `ban`: never again
  /// (it sent a bad block); `quiet`: a close of ours (the file is complete), no back-off;
  /// otherwise retried after an exponential back-off.
  void closed(const Endpoint& peer, bool ban, bool quiet, Clock::time_point now);

  // ---- blocks ----

  enum class Arrival {
    fresh,      ///< verified and written
    duplicate,  ///< verified, but already held (an end-game copy)
    bad,        ///< failed its SHA-256: the caller drops the peer
  };
  /// A status-0 answer from `peer` to its request for `index`: checked against the block's
  /// SHA-256 (on the calling thread: about a millisecond per MiB with OpenSSL and SHA
  /// extensions), written (pwrite) when new. An error means the write failed.
  net::Result<Arrival> arrived(const Endpoint& peer, std::uint64_t index, std::span<const std::byte> body,
                               Clock::time_point now);
  /// Every block is held: marks the swarm done and checks the whole file against the target
  /// hash (reads the file: blocks). An error means the file could not be read or does not match.
  net::Result<void> finish();

 private:
  struct PeerState {
    bool connected = false;
    int failures = 0;
    Clock::time_point retry_at{};
  };
  void back_off(PeerState& state, Clock::time_point now);

  std::shared_ptr<SharedFile> file_;
  FileReport report_;
  BlockPicker picker_;
  std::size_t depth_;
  std::map<Endpoint, PeerState> peers_;
  std::size_t connections_ = 0;
  Clock::time_point next_list_{};
  Clock::time_point next_subscribe_{};
  std::chrono::milliseconds list_gap_{};
  bool done_ = false;
};

}  // namespace sockit::cascade
