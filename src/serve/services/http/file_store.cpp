#include "serve/services/http/file_store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/core.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#include "net/error.hpp"

namespace sockit::serve::services::http {
namespace {

// glibc 2.36 has no wrapper for openat2.
int open_beneath(int root, const char* path, std::uint64_t flags) {
  open_how how{};
  how.flags = flags;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(::syscall(SYS_openat2, root, path, &how, sizeof how));
}

std::string strong_etag(const struct stat& st) {
  return fmt::format("\"{:x}-{:x}-{:x}\"", st.st_ino, st.st_size,
                     static_cast<std::uint64_t>(st.st_mtim.tv_sec) * 1'000'000'000ull +
                         static_cast<std::uint64_t>(st.st_mtim.tv_nsec));
}

}  // namespace

FileStore::FileStore(const std::string& root, Options options) : root_name_(root), options_(options) {
  root_ = net::Fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root_) throw net::errno_error("open root directory", root);
}

std::optional<Entry> FileStore::open_uncached(const std::string& path, int& error) const {
  const char* relative = path.empty() ? "." : path.c_str();
  net::Fd fd(open_beneath(root_.get(), relative, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  struct stat st {};
  if (!fd || ::fstat(fd.get(), &st) < 0) {
    error = errno;
    return std::nullopt;
  }
  if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
    error = kNotServable;
    return std::nullopt;
  }
  Entry entry;
  entry.directory = S_ISDIR(st.st_mode);
  entry.size = entry.directory ? 0 : static_cast<std::uint64_t>(st.st_size);
  entry.mtime = st.st_mtim.tv_sec;
  entry.etag = strong_etag(st);
  entry.fd = std::make_shared<const net::Fd>(std::move(fd));
  return entry;
}

net::Result<Entry> FileStore::open(std::string_view path) {
  int error = 0;
  if (auto entry = lookup(path, error)) return std::move(*entry);
  const auto name = root_name_ + "/" + std::string(path);
  if (error == kNotServable)
    return net::Error("open", std::make_error_code(std::errc::no_such_file_or_directory), name,
                      "neither a file nor a directory");
  return net::errno_error("openat2", name, error);
}

std::optional<Entry> FileStore::find(std::string_view path) {
  int error = 0;
  return lookup(path, error);
}

std::optional<Entry> FileStore::lookup(std::string_view path, int& error) {
  const auto now = Clock::now();
  std::string key(path);
  {
    std::lock_guard lock(mutex_);
    if (auto it = by_path_.find(key); it != by_path_.end() && now - it->second.checked < options_.revalidate) {
      by_age_.splice(by_age_.begin(), by_age_, it->second.age);
      return it->second.entry;
    }
    if (auto it = missing_.find(key); it != missing_.end() && now - it->second.checked < options_.revalidate) {
      error = it->second.error;
      return std::nullopt;
    }
  }
  // Opened without the lock: a slow disk must not hold every other request.
  auto opened = open_uncached(key, error);
  std::lock_guard lock(mutex_);
  auto it = by_path_.find(key);
  if (!opened) {
    if (it != by_path_.end()) {
      by_age_.erase(it->second.age);
      by_path_.erase(it);
    }
    if (options_.max_entries > 0) {
      if (missing_.size() >= options_.max_entries) missing_.clear();
      missing_.insert_or_assign(std::move(key), Missing{error, now});
    }
    return std::nullopt;
  }
  missing_.erase(key);
  if (it != by_path_.end()) {
    // Unchanged on disk: keep the descriptor already shared, close the new one.
    if (it->second.entry.etag != opened->etag) it->second.entry = *opened;
    it->second.checked = now;
    by_age_.splice(by_age_.begin(), by_age_, it->second.age);
    return it->second.entry;
  }
  if (options_.max_entries == 0) return opened;
  if (by_path_.size() >= options_.max_entries) {
    by_path_.erase(by_age_.back());
    by_age_.pop_back();
  }
  by_age_.push_front(key);
  by_path_.emplace(std::move(key), Cached{*opened, now, by_age_.begin()});
  return opened;
}

net::Result<std::vector<Listed>> FileStore::list(const Entry& dir) const {
  // A directory stream of its own: the cached descriptor's offset is shared by every reader.
  net::Fd own(::openat(dir.fd->get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!own) return net::errno_error("open directory", root_name_);
  DIR* stream = ::fdopendir(own.get());
  if (!stream) return net::errno_error("fdopendir", root_name_);
  own.release();
  std::vector<Listed> names;
  while (const dirent* d = ::readdir(stream)) {
    const std::string_view name = d->d_name;
    if (name == "." || name == "..") continue;
    struct stat st {};
    if (::fstatat(::dirfd(stream), d->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) continue;
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode)) continue;
    names.push_back({std::string(name), S_ISDIR(st.st_mode), static_cast<std::uint64_t>(st.st_size),
                     st.st_mtim.tv_sec});
  }
  ::closedir(stream);
  std::sort(names.begin(), names.end(), [](const Listed& a, const Listed& b) { return a.name < b.name; });
  return names;
}

std::size_t FileStore::cached() const {
  std::lock_guard lock(mutex_);
  return by_path_.size();
}

}  // namespace sockit::serve::services::http
