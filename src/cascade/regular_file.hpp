#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/fd.hpp"
#include "net/result.hpp"

namespace sockit::cascade {

// The file-system side of cascade's inputs and outputs: only regular files are read or written
// (a FIFO would hang a reader, /dev/zero never ends, a directory fails half-way), and an output
// never names one of the inputs.

/// A file's identity: two names of one file (hard links, symlinks, "a/../b") have equal FileIds.
struct FileId {
  dev_t device = 0;
  ino_t inode = 0;
  bool operator==(const FileId&) const = default;
};
FileId file_id(const struct stat& info) noexcept;

/// stat() of `path` (symlinks followed); nullopt when nothing is there (ENOENT, ENOTDIR).
/// Errors: any other failure of stat, naming the path. Blocks on the file system.
net::Result<std::optional<struct stat>> stat_path(const std::string& path);

/// "a directory", "a FIFO", "a character device", ...: what a file that is not regular is.
std::string_view file_kind(mode_t mode) noexcept;

/// Errc::not_regular_file for `call` on `path` (the detail says what it is) unless `info` is a
/// regular file.
net::Result<void> require_regular(const struct stat& info, std::string_view call, const std::string& path);

/// An open regular file.
struct OpenedFile {
  net::Fd fd;
  struct stat info {};   ///< fstat of fd
  bool created = false;  ///< this call created it (only with O_CREAT)
};

/// Opens `path` with `flags` (O_RDONLY, O_RDWR or O_WRONLY, optionally O_CREAT; never O_TRUNC:
/// truncate once the file is known to be the right one; O_CLOEXEC is added) and refuses
/// anything but a regular file. It opens with O_NONBLOCK so that a FIFO or a device never makes
/// it wait, and checks the descriptor it got (fstat), so no rename between a check and the open
/// can slip another kind of file in. O_NONBLOCK stays set: it means nothing to a regular file.
/// With O_CREAT, `created` says whether the file was new. Errors name the call and the path:
/// the open's errno, or Errc::not_regular_file saying what the file is.
net::Result<OpenedFile> open_regular(const std::string& path, int flags, mode_t mode = 0644);

/// All bytes of the regular file `path`, refused (Errc::protocol) when it holds more than
/// `max_size`, or (Errc::file_changed) more than its size says (it grew, or it is a /proc
/// file). For cascade and configuration files. Blocks on the file system.
net::Result<std::vector<std::byte>> read_regular_file(const std::string& path, std::uint64_t max_size);

/// `path` absolute, with "." and ".." resolved and the symlinks of the part that exists followed:
/// two names of one file that does not exist yet come out equal. Falls back to the lexical form
/// when the file system cannot be asked.
std::string normal_path(const std::string& path);

/// A file this process has just created, removed again when the object goes unless keep() was
/// called, and only while `path` still names that very file (it may have been replaced since).
/// For outputs that must not be left behind, empty, by a failed command. Move-only.
class NewFile {
 public:
  NewFile() = default;
  NewFile(std::string path, FileId id) : path_(std::move(path)), id_(id), armed_(true) {}
  NewFile(NewFile&& other) noexcept;
  NewFile& operator=(NewFile&& other) noexcept;
  ~NewFile();

  /// The file stays.
  void keep() noexcept { armed_ = false; }

 private:
  void remove() noexcept;

  std::string path_;
  FileId id_{};
  bool armed_ = false;
};

}  // namespace sockit::cascade
