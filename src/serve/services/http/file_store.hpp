#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "net/fd.hpp"
#include "net/result.hpp"

namespace sockit::serve::services::http {

/// A regular file or a directory beneath the root, open, with what response headers need.
struct Entry {
  std::shared_ptr<const net::Fd> fd;  ///< shared with the file ranges still being sent
  bool directory = false;
  std::uint64_t size = 0;
  std::int64_t mtime = 0;  ///< seconds since the epoch (Last-Modified)
  std::string etag;        ///< strong: inode, size and modification time to the nanosecond
};

/// One name in a directory, for --autoindex.
struct Listed {
  std::string name;
  bool directory = false;
  std::uint64_t size = 0;
  std::int64_t mtime = 0;
};

/// The files of one root, and nothing beyond it: every path is opened with openat2() and
/// RESOLVE_BENEATH from the root's descriptor, so "..", absolute symlinks and symlinks that climb
/// out fail in the kernel whatever the path's spelling; only regular files and directories are
/// served (a FIFO or device beneath the root is "not found", and is opened O_NONBLOCK so that a
/// FIFO cannot hold a thread).
///
/// A bounded open-file cache (nginx's open_file_cache): a hot file is opened and stat'ed once per
/// `revalidate` interval, not once per request; at most `max_entries` descriptors stay open
/// (least recently used first out). A file replaced or changed on disk is seen at the next
/// revalidation. A path that is not there is remembered as such for the same interval (at most
/// `max_entries` of them), so that asking again, as every request does for a precompressed
/// sibling that does not exist, costs no system call. Thread-safe.
class FileStore {
 public:
  using Clock = std::chrono::steady_clock;
  struct Options {
    std::size_t max_entries = 1024;
    std::chrono::milliseconds revalidate{1000};
  };

  /// The root directory `root`. Throws net::Error naming it when it cannot be opened.
  FileStore(const std::string& root, Options options);

  /// `path` relative to the root as http::resolve_target made it ("" is the root itself, a
  /// trailing '/' is allowed). An error when it is not there, not reachable beneath the root,
  /// or neither a regular file nor a directory.
  net::Result<Entry> open(std::string_view path);
  /// Like open(), without the reason when `path` is not there: nullopt. Cheap for a missing path.
  std::optional<Entry> find(std::string_view path);
  /// The names in directory `dir` (from open()), sorted, without "." and "..".
  net::Result<std::vector<Listed>> list(const Entry& dir) const;

  /// Paths cached as open (missing ones not counted).
  std::size_t cached() const;

 private:
  struct Cached {
    Entry entry;
    Clock::time_point checked;
    std::list<std::string>::iterator age;  // in by_age_, most recently used first
  };
  // A failure's errno, or kNotServable for a node that is neither a file nor a directory.
  static constexpr int kNotServable = -1;
  std::optional<Entry> open_uncached(const std::string& path, int& error) const;
  std::optional<Entry> lookup(std::string_view path, int& error);

  net::Fd root_;
  std::string root_name_;
  Options options_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Cached> by_path_;
  std::list<std::string> by_age_;
  struct Missing {
    int error;
    Clock::time_point checked;
  };
  std::unordered_map<std::string, Missing> missing_;  // emptied when full: a bound, not an LRU
};

}  // namespace sockit::serve::services::http
