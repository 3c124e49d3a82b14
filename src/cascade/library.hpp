#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cascade/block_server.hpp"
#include "cascade/cascade_file.hpp"
#include "cascade/regular_file.hpp"
#include "net/fd.hpp"
#include "net/result.hpp"
#include "serve/output.hpp"

namespace sockit::cascade {

/// One file a peer shares: its description, its data file and which blocks it holds.
/// has()/block_range() may be called from any thread while one thread writes blocks.
/// A data file that `created` names (one this run made) is removed again when the SharedFile
/// goes while it holds no verified block: a failed or interrupted first run leaves nothing behind.
class SharedFile {
 public:
  SharedFile(CascadeFile description, std::string path, net::Fd data, const std::vector<bool>& have,
             NewFile created = {});
  ~SharedFile();
  SharedFile(const SharedFile&) = delete;
  SharedFile& operator=(const SharedFile&) = delete;

  const CascadeFile& description() const noexcept { return description_; }
  const std::string& path() const noexcept { return path_; }
  int fd() const noexcept { return data_->get(); }

  bool has(std::uint64_t index) const noexcept { return have_[index].load(std::memory_order_acquire); }
  std::uint64_t held() const noexcept { return held_.load(std::memory_order_relaxed); }
  bool complete() const noexcept { return held() == description_.block_count(); }

  /// Writes a block the caller has verified (pwrite), then marks it held. One writer thread.
  net::Result<void> write_block(std::uint64_t index, std::span<const std::byte> bytes);
  /// A held block's range of the data file (to send with sendfile), or nullopt when not held.
  std::optional<serve::FileRange> block_range(std::uint64_t index) const;
  /// Bytes of its blocks the block server has answered with (queued for its clients): what the
  /// admin page's upload rate counts. Any thread.
  std::uint64_t served() const noexcept { return served_.load(std::memory_order_relaxed); }
  void note_served(std::uint64_t bytes) noexcept { served_.fetch_add(bytes, std::memory_order_relaxed); }

 private:
  CascadeFile description_;
  std::string path_;
  std::shared_ptr<const net::Fd> data_;  // shared with block ranges still being sent
  std::unique_ptr<std::atomic<bool>[]> have_;
  std::atomic<std::uint64_t> held_{0};
  std::atomic<std::uint64_t> served_{0};
  NewFile created_;
};

/// Opens (creating it if need be) the data file of `description` at `path` (read-only when it
/// cannot be written), sets its size to the target size, and finds which blocks it already
/// holds intact (a new file holds none). Only a regular file is opened (a FIFO or device is
/// refused, never waited on: Errc::not_regular_file); a file it created is removed again when it
/// fails, and when the SharedFile goes without a verified block. Errors name the path.
/// Blocks while it hashes what is there.
net::Result<std::shared_ptr<SharedFile>> open_shared_file(CascadeFile description, const std::string& path,
                                                          unsigned threads = 0);

/// Every file this peer shares, by cascade hash: what its block server serves. Add files
/// before serving starts; afterwards it is only read (thread-safe).
class Library : public BlockProvider {
 public:
  void add(std::shared_ptr<SharedFile> file);
  BlockStatus locate_block(const Digest& cascade_hash, std::uint64_t index, serve::FileRange& out) const override;

 private:
  std::map<Digest, std::shared_ptr<SharedFile>> files_;
};

}  // namespace sockit::cascade
