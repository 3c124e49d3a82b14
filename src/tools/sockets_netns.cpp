#include "tools/sockets_netns.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <optional>
#include <set>
#include <thread>
#include <utility>

namespace sockit::tools {
namespace {

using Identity = std::pair<dev_t, ino_t>;  // what makes two namespace files the same namespace

std::optional<Identity> identity(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return Identity{st.st_dev, st.st_ino};
}

// A netlink socket belongs to the namespace it was created in, and setns() moves only the
// calling thread: so a short-lived thread enters the namespace, opens the socket and ends,
// leaving this thread where it was.
net::Result<net::Fd> open_diag_socket_in(const std::string& path) {
  std::optional<net::Result<net::Fd>> result;
  std::thread([&] {
    net::Fd ns(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns) return result.emplace(net::errno_error("open", path)), void();
    if (::setns(ns.get(), CLONE_NEWNET) != 0) return result.emplace(net::errno_error("setns", path)), void();
    result.emplace(open_diag_socket());
  }).join();
  return std::move(*result);
}

}  // namespace

std::vector<NetworkNamespace> network_namespaces() {
  std::vector<NetworkNamespace> found;
  std::set<Identity> seen;
  std::error_code ignored;  // no /run/netns: no named namespaces
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator("/run/netns", ignored))
    names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    const std::string path = "/run/netns/" + name;
    if (const auto id = identity(path); id && seen.insert(*id).second) found.push_back({name, path});
  }
  std::vector<int> pids;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ignored)) {
    const auto name = entry.path().filename().string();
    int pid = 0;
    auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
    if (ec == std::errc{} && end == name.data() + name.size()) pids.push_back(pid);
  }
  std::sort(pids.begin(), pids.end());
  for (int pid : pids) {
    const std::string path = "/proc/" + std::to_string(pid) + "/ns/net";
    if (const auto id = identity(path); id && seen.insert(*id).second)
      found.push_back({"pid:" + std::to_string(pid), path});
  }
  return found;
}

net::Result<std::vector<SocketEntry>> list_sockets_all_netns(const SocketQuery& query) {
  std::vector<SocketEntry> all;
  for (const auto& ns : network_namespaces()) {
    auto socket = open_diag_socket_in(ns.path);
    if (!socket) {
      if (ns.path.starts_with("/proc/") && socket.error().code() == std::errc::no_such_file_or_directory)
        continue;  // the process that named it has gone, and with it (maybe) the namespace
      return socket.error();
    }
    auto entries = list_sockets_netlink(socket->get(), query);
    if (!entries) return entries.error();
    for (auto& e : *entries) {
      e.netns = ns.label;
      all.push_back(std::move(e));
    }
  }
  return all;
}

}  // namespace sockit::tools
