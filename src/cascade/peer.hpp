#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cascade/block_server.hpp"
#include "cascade/downloader.hpp"
#include "cascade/library.hpp"
#include "cascade/peer_files.hpp"
#include "cascade/serving.hpp"
#include "net/address.hpp"
#include "net/result.hpp"
#include "serve/log.hpp"
#include "serve/stop_signal.hpp"

namespace sockit::cascade {

struct PeerConfig {
  std::vector<PeerFile> files;
  net::Address listen;        ///< IPv4 address of the block server (the tracker stores IPv4); port 0 picks one
  DownloadOptions download;   ///< the tracker and the timing; the Peer sets `self`
  serve::Log* log = nullptr;  ///< the block server's lines; may be nullptr
  serve::Metrics* metrics = nullptr;  ///< what the block server's connections count (--admin); may be nullptr
};

/// What a Peer reports, on the thread of download() or seed(). Either may be empty.
struct PeerCallbacks {
  std::function<void(const std::string&)> event;  ///< one line per event (Downloader's, tracker failures)
  std::function<void(const Progress&)> progress;  ///< Downloader's snapshots
};

/// A cascade peer: serves the blocks of its files in the background from construction to
/// destruction, fetches what they lack (download), then keeps the tracker told (seed).
class Peer {
 public:
  /// Checks the files (check_peer_files: no data file is a cascade file, another data file or
  /// not a regular file), binds the block server, opens every file (blocking while it hashes
  /// what the data files hold), then starts serving on a thread of its own. Throws net::Error: a
  /// data path refused, a listen address that is not IPv4 or cannot be bound, a cascade file
  /// that cannot be read or parsed, a data file that cannot be opened (the error names the
  /// address or path). Data files it created are removed again when it throws, and when the
  /// Peer goes while they hold no verified block.
  Peer(const PeerConfig& config, PeerCallbacks callbacks);
  /// Stops the block server and waits for it.
  ~Peer();
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  /// Where the block server listens, with the port the kernel picked for port 0.
  const net::Address& address() const noexcept { return address_; }
  std::size_t file_count() const noexcept { return files_.size(); }
  /// The files it shares, in the order of the configuration: their blocks held (read from any thread).
  const std::vector<std::shared_ptr<SharedFile>>& files() const noexcept { return files_; }

  /// Blocks: Downloader::run over every file, until all are complete or `stop` fires.
  net::Result<std::vector<FileReport>> download(serve::StopSignal& stop);

  /// Blocks: subscribes every file with the tracker, again each resubscribe_interval (each
  /// list_interval after a failed one: a restarted tracker knows nobody), until `stop` fires. A
  /// failed subscription is an event and seeding goes on. Returns at most one tracker_timeout
  /// after stop (a subscription in progress is finished first).
  void seed(serve::StopSignal& stop);

 private:
  void event(const std::string& line) const;

  DownloadOptions options_;
  PeerCallbacks callbacks_;
  std::shared_ptr<Library> library_ = std::make_shared<Library>();
  BlockService blocks_;
  std::vector<std::shared_ptr<SharedFile>> files_;
  net::Address address_;
  std::unique_ptr<BackgroundServer> server_;  ///< last: stopped before what it serves goes
};

}  // namespace sockit::cascade
