#include "cascade/regular_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/core.h>

#include <cerrno>
#include <filesystem>
#include <system_error>
#include <utility>

#include "net/text.hpp"

namespace sockit::cascade {

FileId file_id(const struct stat& info) noexcept { return {info.st_dev, info.st_ino}; }

net::Result<std::optional<struct stat>> stat_path(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0) return std::optional<struct stat>(info);
  if (errno == ENOENT || errno == ENOTDIR) return std::optional<struct stat>();
  return net::errno_error("stat", path);
}

std::string_view file_kind(mode_t mode) noexcept {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a file";
}

net::Result<void> require_regular(const struct stat& info, std::string_view call, const std::string& path) {
  if (S_ISREG(info.st_mode)) return {};
  return net::Error(std::string(call), net::Errc::not_regular_file, path,
                    fmt::format("it is {}", file_kind(info.st_mode)));
}

namespace {

// open() that says whether O_CREAT created the file: O_EXCL first, then the existing file.
// Bounded: a file that keeps appearing and vanishing between the two gets three tries.
net::Result<OpenedFile> open_noting_creation(const std::string& path, int flags, mode_t mode) {
  flags |= O_CLOEXEC | O_NONBLOCK;
  OpenedFile opened;
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (flags & O_CREAT) {
      opened.fd = net::Fd(::open(path.c_str(), flags | O_EXCL, mode));
      if (opened.fd) {
        opened.created = true;
        return opened;
      }
      if (errno != EEXIST) break;
    }
    opened.fd = net::Fd(::open(path.c_str(), flags & ~O_CREAT));
    if (opened.fd || errno != ENOENT || !(flags & O_CREAT)) break;
  }
  if (!opened.fd) {
    const int error = errno;
    // A FIFO without a reader, or a socket, refuses a non-blocking open for writing (ENXIO):
    // say what it is rather than "No such device or address".
    if (error == ENXIO)
      if (auto there = stat_path(path); there && *there && !S_ISREG((*there)->st_mode))
        if (auto regular = require_regular(**there, "open", path); !regular) return regular.error();
    return net::errno_error("open", path, error);
  }
  return opened;
}

}  // namespace

net::Result<OpenedFile> open_regular(const std::string& path, int flags, mode_t mode) {
  auto opened = open_noting_creation(path, flags, mode);
  if (!opened) return opened.error();
  if (::fstat(opened->fd.get(), &opened->info) < 0) return net::errno_error("fstat", path);
  if (auto regular = require_regular(opened->info, "open", path); !regular) return regular.error();
  return opened;
}

net::Result<std::vector<std::byte>> read_regular_file(const std::string& path, std::uint64_t max_size) {
  auto opened = open_regular(path, O_RDONLY);
  if (!opened) return opened.error();
  const auto size = static_cast<std::uint64_t>(opened->info.st_size);
  if (size > max_size)
    return net::Error("read", net::Errc::protocol, path,
                      fmt::format("{}, more than the {} allowed", net::counted(size, "byte"), max_size));
  // One byte more than the size says, to notice a file that grew (or a /proc file, whose size
  // is 0 whatever it holds).
  std::vector<std::byte> bytes(static_cast<std::size_t>(size) + 1);
  std::size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t n = ::read(opened->fd.get(), bytes.data() + got, bytes.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return net::errno_error("read", path);
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got > size)
    return net::Error("read", net::Errc::file_changed, path,
                      fmt::format("it holds more than the {} its size says", net::counted(size, "byte")));
  bytes.resize(got);
  return bytes;
}

std::string normal_path(const std::string& path) {
  std::error_code error;
  auto absolute = std::filesystem::absolute(path, error);
  if (error) return std::filesystem::path(path).lexically_normal().string();
  auto resolved = std::filesystem::weakly_canonical(absolute, error);
  return (error ? absolute.lexically_normal() : resolved).string();
}

NewFile::NewFile(NewFile&& other) noexcept
    : path_(std::move(other.path_)), id_(other.id_), armed_(std::exchange(other.armed_, false)) {}

NewFile& NewFile::operator=(NewFile&& other) noexcept {
  if (this != &other) {
    remove();
    path_ = std::move(other.path_);
    id_ = other.id_;
    armed_ = std::exchange(other.armed_, false);
  }
  return *this;
}

NewFile::~NewFile() { remove(); }

void NewFile::remove() noexcept {
  if (!std::exchange(armed_, false)) return;
  struct stat info {};
  if (::stat(path_.c_str(), &info) == 0 && file_id(info) == id_) ::unlink(path_.c_str());
}

}  // namespace sockit::cascade
