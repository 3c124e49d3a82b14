#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cascade/library.hpp"
#include "cascade/protocol.hpp"
#include "net/address.hpp"
#include "net/result.hpp"
#include "serve/stop_signal.hpp"

namespace sockit::cascade {

struct DownloadOptions {
  net::Address tracker;
  Endpoint self;                          ///< our block server, as registered with the tracker
  std::size_t max_peers = 32;             ///< connections per file: every leecher, for the stripes
  std::size_t bytes_in_flight = 8 << 20;  ///< per connection at most: this / block size requests, 2..32
  std::chrono::milliseconds list_interval{std::chrono::seconds(30)};
  std::chrono::milliseconds resubscribe_interval{std::chrono::minutes(10)};
  std::chrono::milliseconds stall_timeout{std::chrono::seconds(10)};
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(3)};
  std::chrono::milliseconds tracker_timeout{std::chrono::seconds(3)};  ///< one exchange, connect included
  std::chrono::milliseconds progress_interval{std::chrono::milliseconds(250)};
};

/// What the progress bar shows, summed over every file.
struct Progress {
  std::uint64_t blocks_total = 0;
  std::uint64_t blocks_held = 0;
  std::uint64_t bytes_total = 0;
  std::uint64_t bytes_held = 0;
  double bytes_per_second = 0;
  std::size_t peers = 0;  ///< open connections
};

/// One file's outcome.
struct FileReport {
  std::string path;
  std::uint64_t blocks = 0;
  std::uint64_t resumed = 0;     ///< valid before this run
  std::uint64_t fetched = 0;     ///< verified and written in this run
  std::uint64_t duplicates = 0;  ///< end-game copies that arrived second
  std::uint64_t bad_blocks = 0;  ///< blocks that failed their hash
  std::map<Endpoint, std::uint64_t> blocks_from;
  std::vector<Endpoint> dropped;  ///< peers dropped for sending a bad block
  bool complete = false;
  bool target_verified = false;
};

/// The peer's download side: one thread, one event loop (net::Epoll), non-blocking persistent
/// connections to up to max_peers peers per file, as many requests in flight on each as about
/// three seconds of its rate (RequestWindow; 2 at least, bytes_in_flight at most). Which block
/// to ask whom is BlockPicker's: seeds are asked for our own stripe of the file, leechers for
/// theirs (docs/swarm.md). Every block is checked against its SHA-256 before it is written
/// (pwrite); a block answered 2, or lost with its peer, is asked elsewhere; a peer that sends a
/// bad block is dropped for the rest of the run; once every missing block is requested, the last
/// ones are asked from a second peer (end-game). The tracker exchanges (subscribe, then lists soon
/// after and every list_interval, a subscribe again after a failed one) are non-blocking
/// connections of the same loop, each given up after tracker_timeout: a slow or silent tracker
/// never holds up transfers. Memory per connection: one block buffer and its queued requests,
/// whatever the peer sends; the picker keeps per peer what it has in flight there and the blocks
/// it lacked in the last clear_for (bounded by the requests made in that time).
class Downloader {
 public:
  /// `event` gets one line per event (connected, block from, dropped, tracker); `progress`
  /// gets a snapshot every progress_interval. Both are called on the thread of run().
  Downloader(DownloadOptions options, std::function<void(const std::string&)> event,
             std::function<void(const Progress&)> progress);

  /// Blocks until every file is complete (and its target hash checked) or `stop` fires. Files
  /// keep whatever verified blocks they got, so a later run resumes. An error means a file
  /// could not be written or a complete file does not match its target hash.
  net::Result<std::vector<FileReport>> run(const std::vector<std::shared_ptr<SharedFile>>& files,
                                           serve::StopSignal& stop);

 private:
  DownloadOptions options_;
  std::function<void(const std::string&)> event_;
  std::function<void(const Progress&)> progress_;
};

}  // namespace sockit::cascade
