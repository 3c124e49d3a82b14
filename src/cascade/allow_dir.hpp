#pragma once

#include <string>
#include <vector>

#include "cascade/sha256.hpp"
#include "net/result.hpp"

namespace sockit::cascade {

/// What the tracker's --allow-dir holds.
struct AllowDir {
  struct Tracked {
    std::string path;
    Digest cascade_hash;
  };
  std::vector<Tracked> tracked;      ///< in directory order
  std::vector<std::string> skipped;  ///< why each other `*.cascade` entry is not tracked
};

/// Loads every `*.cascade` entry of `dir` (not of its subdirectories). Only regular files are
/// read: a FIFO, a device or a directory with that name is skipped, never waited on, and so is a
/// file that is not a valid cascade file; `skipped` says why, naming the entry. Errors: the
/// directory cannot be opened or read (errno, naming it). Blocks on the file system.
net::Result<AllowDir> scan_allow_dir(const std::string& dir);

}  // namespace sockit::cascade
