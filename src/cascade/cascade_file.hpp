#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cascade/regular_file.hpp"
#include "cascade/sha256.hpp"
#include "net/result.hpp"

namespace sockit::cascade {

/// The `.cascade` file (cascade-protocol.md §1): sizes, the target hash and one hash per block.
struct CascadeFile {
  static constexpr std::size_t kHeaderSize = 64;
  static constexpr std::string_view kMagic = "CASCADE1";

  std::uint64_t target_size = 0;
  std::uint64_t block_size = 0;
  Digest target_hash{};
  std::vector<Digest> block_hashes;
  /// SHA-256 of the file's bytes as read (trailing bytes included): the file's identity.
  Digest cascade_hash{};

  /// ceil(target_size / block_size); 0 for an empty target.
  std::uint64_t block_count() const noexcept;
  std::uint64_t block_offset(std::uint64_t index) const noexcept { return index * block_size; }
  /// The block's length: block_size, or less for the trail block.
  std::uint64_t block_length(std::uint64_t index) const noexcept;
  /// The file's bytes as the course writes them (reserved zero, no trailing bytes).
  std::vector<std::byte> serialize() const;
};

/// Parses a cascade file's bytes; `name` is for messages. Errors (Errc::protocol) say what is
/// wrong: short header, bad magic, block size 0, too few hashes. Bytes after the last hash are
/// ignored, as the course's reader does, but count in the cascade hash.
net::Result<CascadeFile> parse_cascade(std::span<const std::byte> bytes, std::string_view name = "cascade file");
/// Reads and parses `path`, which must be a regular file (a FIFO is refused, never waited on).
/// Blocks on the file system.
net::Result<CascadeFile> load_cascade(const std::string& path);
/// Writes `file.serialize()` to `path` (replacing what it holds); sets file.cascade_hash.
/// Refuses, before changing anything, a `path` that is not a regular file or that is one of
/// `inputs` (Errc::file_in_use: the data file, also through a link). A file it created is
/// removed again when the write fails.
net::Result<void> save_cascade(CascadeFile& file, const std::string& path, std::span<const FileId> inputs = {});
/// The data file of `x.bin.cascade`: `x.bin` (the path without `.cascade`).
std::string default_data_path(std::string_view cascade_path);

}  // namespace sockit::cascade
