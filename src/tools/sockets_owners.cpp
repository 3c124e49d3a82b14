#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <optional>
#include <string_view>
#include <thread>
#include <tuple>

#include "net/fd.hpp"
#include "tools/sockets.hpp"

namespace sockit::tools {
namespace {

std::optional<std::uint64_t> number(std::string_view text) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// The names in a directory, read with getdents64 on a descriptor we already hold (readdir would
// open the path again). Calls `each(name)` for every entry but "." and "..".
template <typename Each>
void for_each_name(int directory, Each&& each) {
  alignas(8) char buffer[32 * 1024];
  for (;;) {
    const long n = ::syscall(SYS_getdents64, directory, buffer, sizeof buffer);
    if (n <= 0) return;  // the end, or a process that went away meanwhile
    for (long at = 0; at < n;) {
      const auto* entry = reinterpret_cast<const dirent64*>(buffer + at);
      at += entry->d_reclen;
      const std::string_view name(entry->d_name);
      if (name != "." && name != "..") each(name);
    }
  }
}

net::Fd open_directory(int parent, const char* path) {
  return net::Fd(::openat(parent, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
}

std::string command_name(int process_directory) {
  net::Fd comm(::openat(process_directory, "comm", O_RDONLY | O_CLOEXEC));
  if (!comm) return {};
  char text[64];
  const ssize_t n = ::read(comm.get(), text, sizeof text);
  if (n <= 0) return {};
  std::string_view name(text, static_cast<std::size_t>(n));
  if (name.ends_with('\n')) name.remove_suffix(1);
  return std::string(name);
}

// Every socket one process holds. readlinkat on the fd directory's descriptor: the kernel
// resolves only the last component, not /proc/PID/fd/ again for each of thousands of links.
void add_process(int proc, std::string_view pid_text, SocketOwners& owners) {
  const auto pid = number(pid_text);
  if (!pid) return;
  const std::string pid_name(pid_text);
  net::Fd process = open_directory(proc, pid_name.c_str());
  if (!process) return;  // gone
  net::Fd fds = open_directory(process.get(), "fd");
  if (!fds) return;  // not ours to look at
  std::string name;
  bool named = false;
  for_each_name(fds.get(), [&](std::string_view fd_text) {
    char target[64];
    const std::string fd_name(fd_text);  // short: no allocation
    const ssize_t n = ::readlinkat(fds.get(), fd_name.c_str(), target, sizeof target);
    constexpr std::string_view kPrefix = "socket:[";
    if (n <= static_cast<ssize_t>(kPrefix.size()) || n == sizeof target) return;
    const std::string_view link(target, static_cast<std::size_t>(n));
    if (!link.starts_with(kPrefix) || !link.ends_with(']')) return;
    const auto inode = number(link.substr(kPrefix.size(), link.size() - kPrefix.size() - 1));
    const auto fd = number(fd_text);
    if (!inode || !fd) return;
    if (!named) name = command_name(process.get()), named = true;
    owners[*inode].push_back({static_cast<int>(*pid), name, static_cast<int>(*fd)});
  });
}

}  // namespace

SocketOwners socket_owners() {
  net::Fd proc = open_directory(AT_FDCWD, "/proc");
  if (!proc) return {};
  std::vector<std::string> pids;
  for_each_name(proc.get(), [&](std::string_view name) { pids.emplace_back(name); });
  // One readlink per descriptor is most of the time, and the kernel answers them in parallel:
  // each thread takes the next process until none is left, into a map of its own.
  const unsigned threads = std::clamp(std::thread::hardware_concurrency(), 1u, 4u);
  std::vector<SocketOwners> found(threads);
  std::atomic<std::size_t> next{0};
  const auto work = [&](SocketOwners& owners) {
    for (std::size_t i; (i = next.fetch_add(1)) < pids.size();) add_process(proc.get(), pids[i], owners);
  };
  {
    std::vector<std::jthread> helpers;
    for (unsigned t = 1; t < threads; ++t) helpers.emplace_back([&, t] { work(found[t]); });
    work(found[0]);
  }
  SocketOwners owners = std::move(found[0]);
  for (unsigned t = 1; t < threads; ++t)
    for (auto& [inode, holders] : found[t]) {
      auto& all = owners[inode];
      all.insert(all.end(), holders.begin(), holders.end());
    }
  // The threads' order is not the processes' order: sort the holders of shared sockets.
  for (auto& [inode, holders] : owners)
    if (holders.size() > 1)
      std::sort(holders.begin(), holders.end(),
                [](const SocketOwner& a, const SocketOwner& b) { return std::tie(a.pid, a.fd) < std::tie(b.pid, b.fd); });
  return owners;
}

void attach_owners(std::vector<SocketEntry>& entries, const SocketOwners& owners) {
  for (auto& e : entries)
    if (auto it = owners.find(e.inode); it != owners.end()) e.owners = it->second;
}

void attach_owners(std::vector<SocketEntry>& entries) { attach_owners(entries, socket_owners()); }

}  // namespace sockit::tools
