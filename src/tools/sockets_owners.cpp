#include <dirent.h>
#include <unistd.h>

#include <cctype>
#include <charconv>
#include <fstream>

#include "tools/sockets.hpp"

namespace sockit::tools {
namespace {

// Closes a directory stream whatever happens.
struct Directory {
  DIR* dir;
  explicit Directory(const std::string& path) : dir(::opendir(path.c_str())) {}
  ~Directory() {
    if (dir) ::closedir(dir);
  }
  Directory(const Directory&) = delete;
  Directory& operator=(const Directory&) = delete;
};

std::optional<std::uint64_t> number(std::string_view text) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string command_name(const std::string& pid) {
  std::ifstream comm("/proc/" + pid + "/comm");
  std::string name;
  std::getline(comm, name);
  return name;
}

}  // namespace

std::map<std::uint64_t, std::vector<SocketOwner>> socket_owners() {
  std::map<std::uint64_t, std::vector<SocketOwner>> owners;
  Directory proc("/proc");
  if (!proc.dir) return owners;
  while (const dirent* process = ::readdir(proc.dir)) {
    const std::string pid = process->d_name;
    if (!number(pid)) continue;
    const std::string fd_dir = "/proc/" + pid + "/fd/";
    Directory fds(fd_dir);
    if (!fds.dir) continue;  // gone, or not ours to look at
    std::string name;
    while (const dirent* fd = ::readdir(fds.dir)) {
      const auto fd_number = number(fd->d_name);
      if (!fd_number) continue;
      char target[64];
      const ssize_t n = ::readlink((fd_dir + fd->d_name).c_str(), target, sizeof target - 1);
      if (n <= 0) continue;
      const std::string_view link(target, static_cast<std::size_t>(n));
      if (!link.starts_with("socket:[") || !link.ends_with("]")) continue;
      const auto inode = number(link.substr(8, link.size() - 9));
      if (!inode) continue;
      if (name.empty()) name = command_name(pid);
      owners[*inode].push_back({static_cast<int>(*number(pid)), name, static_cast<int>(*fd_number)});
    }
  }
  return owners;
}

void attach_owners(std::vector<SocketEntry>& entries) {
  const auto owners = socket_owners();
  for (auto& e : entries)
    if (auto it = owners.find(e.inode); it != owners.end()) e.owners = it->second;
}

}  // namespace sockit::tools
