#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cascade/cascade_file.hpp"
#include "net/result.hpp"

namespace sockit::cascade {

/// Builds the cascade description of the regular file at `path` (anything else is refused:
/// Errc::not_regular_file; so is a file that holds more or less than its size says, like those
/// of /proc: Errc::file_changed). Streams it in 1 MiB pieces
/// (constant memory whatever the file or block size). For files above a few MiB it uses
/// `threads` threads (0: one per core): one computes the target hash in order while the others
/// hash blocks with pread(). Blocks the calling thread until done.
net::Result<CascadeFile> describe_data_file(const std::string& path, std::uint64_t block_size, unsigned threads = 0);

/// Which blocks `fd` (the file at `path`, named in errors) already holds intact (pread + SHA-256
/// of each block, in parallel like describe_data_file). A short file simply lacks its missing
/// blocks. Blocks until done.
net::Result<std::vector<bool>> valid_blocks(int fd, const std::string& path, const CascadeFile& file,
                                            unsigned threads = 0);

/// SHA-256 of the first `size` bytes of `fd` (the file at `path`, named in errors), read in
/// order in 1 MiB pieces; Errc::file_changed when the file is shorter.
net::Result<Digest> hash_file_prefix(int fd, const std::string& path, std::uint64_t size);

}  // namespace sockit::cascade
