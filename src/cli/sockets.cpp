#include <fmt/core.h>
#include <netdb.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "cli/command.hpp"
#include "cli/option_checks.hpp"
#include "tools/sockets.hpp"

namespace sockit::cli {
namespace {

struct SocketsArgs {
  bool tcp = false, udp = false, unix_sockets = false, listening = false, all = false;
  bool numeric = false, processes = false, info = false, json = false, proc = false;
  std::string state;
  int port = 0;
  int pid = 0;
  double watch = 0;
  int count = 0;
};

struct Filter {
  std::optional<int> state;
  bool listening_only = false;
  bool everything = false;
  int port = 0;
  int pid = 0;
};

bool wanted(const tools::SocketEntry& e, const Filter& f) {
  if (f.state) {
    if (e.state != *f.state) return false;
  } else if (!f.everything && f.listening_only != tools::is_listening(e)) {
    return false;
  }
  if (f.port != 0 && e.local_port != f.port && e.remote_port != f.port) return false;
  if (f.pid != 0 && std::none_of(e.owners.begin(), e.owners.end(), [&](const auto& o) { return o.pid == f.pid; }))
    return false;
  return true;
}

// Port names from /etc/services, looked up once each (getservbyport reads the file every call).
class PortNames {
 public:
  explicit PortNames(bool numeric) : numeric_(numeric) {}
  std::string operator()(std::uint16_t port, const std::string& netid) {
    if (port == 0) return "*";
    if (numeric_) return std::to_string(port);
    const auto key = std::pair{port, netid};
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
    const servent* s = ::getservbyport(htons(port), netid == "udp" ? "udp" : "tcp");
    return cache_[key] = s ? s->s_name : std::to_string(port);
  }

 private:
  bool numeric_;
  std::map<std::pair<std::uint16_t, std::string>, std::string> cache_;
};

std::string endpoint(const std::string& address, int family, const std::string& port) {
  if (family == AF_UNIX) return (address.empty() ? "*" : address) + " " + port;
  if (family == AF_INET6) return "[" + address + "]:" + port;
  return address + ":" + port;
}

std::string users(const tools::SocketEntry& e) {
  if (e.owners.empty()) return "";
  std::string text = "users:(";
  for (std::size_t i = 0; i < e.owners.size(); ++i)
    text += fmt::format("{}(\"{}\",pid={},fd={})", i ? "," : "", e.owners[i].name, e.owners[i].pid, e.owners[i].fd);
  return text + ")";
}

nlohmann::json to_json(const tools::SocketEntry& e) {
  nlohmann::json j = {{"netid", e.netid},
                      {"state", tools::socket_state_name(e.state)},
                      {"recv_q", e.recv_q},
                      {"send_q", e.send_q},
                      {"local", {{"address", e.local_address}, {"port", e.local_port}}},
                      {"peer", {{"address", e.remote_address}, {"port", e.remote_port}}},
                      {"inode", e.inode},
                      {"uid", e.uid}};
  if (e.family == AF_UNIX) j["peer"] = {{"inode", e.remote_inode}};
  nlohmann::json owners = nlohmann::json::array();
  for (const auto& o : e.owners) owners.push_back({{"pid", o.pid}, {"name", o.name}, {"fd", o.fd}});
  j["processes"] = owners;
  if (e.tcp_info)
    j["tcp_info"] = {{"rtt_ms", e.tcp_info->rtt_ms}, {"rttvar_ms", e.tcp_info->rttvar_ms},
                     {"cwnd", e.tcp_info->cwnd}, {"mss", e.tcp_info->mss},
                     {"retransmits", e.tcp_info->retransmits}, {"total_retransmits", e.tcp_info->total_retransmits}};
  return j;
}

void print_table(const std::vector<tools::SocketEntry>& entries, const SocketsArgs& a) {
  PortNames names(a.numeric);
  std::vector<std::array<std::string, 7>> rows;
  rows.push_back({"Netid", "State", "Recv-Q", "Send-Q", "Local Address:Port", "Peer Address:Port", a.processes ? "Process" : ""});
  for (const auto& e : entries) {
    const std::string peer = e.family == AF_UNIX ? fmt::format("* {}", e.remote_inode)
                                                 : endpoint(e.remote_address, e.family, names(e.remote_port, e.netid));
    const std::string local = e.family == AF_UNIX ? endpoint(e.local_address, AF_UNIX, std::to_string(e.inode))
                                                  : endpoint(e.local_address, e.family, names(e.local_port, e.netid));
    rows.push_back({e.netid, std::string(tools::socket_state_name(e.state)), std::to_string(e.recv_q),
                    std::to_string(e.send_q), local, peer, a.processes ? users(e) : ""});
  }
  std::array<std::size_t, 7> width{};
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const auto& r = rows[k];
    fmt::print("{:<{}} {:<{}} {:>{}} {:>{}} {:<{}} {:<{}} {}\n", r[0], width[0], r[1], width[1], r[2], width[2], r[3],
               width[3], r[4], width[4], r[5], width[5], r[6]);
    if (k > 0 && entries[k - 1].tcp_info) {
      const auto& t = *entries[k - 1].tcp_info;
      fmt::print("\t rtt:{:.3f}/{:.3f} cwnd:{} mss:{} retrans:{}/{}\n", t.rtt_ms, t.rttvar_ms, t.cwnd, t.mss,
                 t.retransmits, t.total_retransmits);
    }
  }
}

int run(const SocketsArgs& a) {
  tools::SocketQuery query;
  const bool any_kind = a.tcp || a.udp || a.unix_sockets;
  query.tcp = !any_kind || a.tcp;
  query.udp = !any_kind || a.udp;
  query.unix_sockets = !any_kind || a.unix_sockets;
  query.tcp_info = a.info;
  Filter filter{.state = std::nullopt, .listening_only = a.listening, .everything = a.all, .port = a.port, .pid = a.pid};
  if (!a.state.empty()) {
    filter.state = tools::parse_socket_state(a.state);
    if (!filter.state) return fmt::print(stderr, "sockit sockets: unknown state '{}'\n", a.state), 2;
  }
  // An empty table would say the process holds no sockets; it does not exist at all.
  std::error_code unreadable;  // the non-throwing overload: no raw filesystem_error text
  if (a.pid != 0 && !std::filesystem::exists(fmt::format("/proc/{}", a.pid), unreadable)) {
    fmt::print(stderr, "sockit sockets: no process with pid {}\n", a.pid);
    return 1;
  }
  for (int round = 1;; ++round) {
    auto entries = (a.proc ? tools::list_sockets_proc(query) : tools::list_sockets(query)).value();
    if (a.processes || a.pid != 0) tools::attach_owners(entries);
    std::erase_if(entries, [&](const auto& e) { return !wanted(e, filter); });
    if (a.json) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& e : entries) list.push_back(to_json(e));
      fmt::print("{}\n", a.watch > 0 ? list.dump() : list.dump(2));
    } else {
      if (a.watch > 0) fmt::print("\x1b[H\x1b[2J");  // clear the terminal, as watch(1) does
      print_table(entries, a);
    }
    std::fflush(stdout);
    if (a.watch <= 0 || (a.count > 0 && round >= a.count)) return 0;
    std::this_thread::sleep_for(std::chrono::duration<double>(a.watch));
  }
}

}  // namespace

Command add_sockets(CLI::App& app) {
  auto a = std::make_shared<SocketsArgs>();
  auto* cmd = app.add_subcommand("sockets", "List sockets like ss/netstat: state, addresses, queues, owning processes");
  cmd->add_flag("-t,--tcp", a->tcp, "TCP sockets");
  cmd->add_flag("-u,--udp", a->udp, "UDP sockets");
  cmd->add_flag("-x,--unix", a->unix_sockets, "Unix sockets (without -t/-u/-x: all three)");
  auto* listening = cmd->add_flag("-l,--listening", a->listening, "only listening sockets (and unconnected UDP)");
  cmd->add_flag("-a,--all", a->all, "listening and non-listening sockets (default: non-listening only)")->excludes(listening);
  cmd->add_flag("-n,--numeric", a->numeric, "port numbers, not service names");
  cmd->add_flag("-p,--processes", a->processes, "owning processes (pid, name, fd) from /proc/*/fd");
  cmd->add_flag("-i,--info", a->info, "TCP internals: rtt/rttvar (ms), cwnd, mss, retransmits");
  cmd->add_option("--state", a->state, "only this state: established, listen, time-wait, syn-sent, close-wait, ...")
      ->check(checks::non_empty());
  cmd->add_option("--port", a->port, "only sockets with this local or remote port")->transform(checks::port());
  cmd->add_option("--pid", a->pid, "only sockets this process holds")->transform(checks::whole(1));
  auto* watch = cmd->add_option("--watch", a->watch, "refresh every SEC seconds until interrupted")
                    ->transform(checks::positive(86400));
  cmd->add_option("--count", a->count, "with --watch: stop after N refreshes")
      ->transform(checks::whole(1))
      ->needs(watch);
  cmd->add_flag("--proc", a->proc, "read /proc/net instead of netlink sock_diag");
  cmd->add_flag("--json", a->json, "print JSON (with --watch: one array per line)");
  cmd->footer(
      "Reads netlink sock_diag (what ss uses), falling back to /proc/net when netlink is missing.\n\n"
      "Examples:\n"
      "  sockit sockets -tulnp            # what netstat -tulpn shows\n"
      "  sockit sockets -ti --state established\n"
      "  sockit sockets -x -a --json");
  return {cmd, [a] { return run(*a); }};
}

}  // namespace sockit::cli
