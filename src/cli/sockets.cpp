#include <fmt/core.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "cli/command.hpp"
#include "cli/option_checks.hpp"
#include "tools/sockets.hpp"
#include "tools/sockets_filter.hpp"
#include "tools/sockets_netns.hpp"
#include "tools/sockets_table.hpp"

namespace sockit::cli {
namespace {

struct SocketsArgs {
  bool tcp = false, udp = false, unix_sockets = false, listening = false, all = false;
  bool numeric = false, processes = false, info = false, json = false, proc = false, all_netns = false;
  std::string state;
  std::vector<std::string> filter;
  int port = 0;
  int pid = 0;
  double watch = 0;
  int count = 0;
};

// What the kernel cannot filter: --port (either end) and --pid (an owner).
bool wanted(const tools::SocketEntry& e, const SocketsArgs& a) {
  if (a.port != 0 && e.local_port != a.port && e.remote_port != a.port) return false;
  if (a.pid != 0 && std::none_of(e.owners.begin(), e.owners.end(), [&](const auto& o) { return o.pid == a.pid; }))
    return false;
  return true;
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
  if (!e.netns.empty()) j["netns"] = e.netns;
  nlohmann::json owners = nlohmann::json::array();
  for (const auto& o : e.owners) owners.push_back({{"pid", o.pid}, {"name", o.name}, {"fd", o.fd}});
  j["processes"] = owners;
  if (e.tcp_info)
    j["tcp_info"] = {{"rtt_ms", e.tcp_info->rtt_ms}, {"rttvar_ms", e.tcp_info->rttvar_ms},
                     {"cwnd", e.tcp_info->cwnd}, {"mss", e.tcp_info->mss},
                     {"retransmits", e.tcp_info->retransmits}, {"total_retransmits", e.tcp_info->total_retransmits}};
  return j;
}

int usage_error(const std::string& message) {
  fmt::print(stderr, "sockit sockets: {}\n", message);
  return 2;
}

// The query from the options and the FILTER words; a message when they make no sense.
std::variant<tools::SocketQuery, std::string> query_of(const SocketsArgs& a) {
  tools::SocketQuery query;
  const auto parsed = tools::parse_socket_filter(a.filter);
  if (const auto* error = std::get_if<tools::FilterError>(&parsed))
    return error->token.empty() ? fmt::format("bad filter: {}", error->reason)
                                : fmt::format("bad filter at '{}': {}", error->token, error->reason);
  const auto& filter = std::get<tools::SocketFilter>(parsed);
  const bool expression = !filter.bytecode.empty();
  if (expression && a.unix_sockets) return std::string("a filter expression applies to TCP and UDP only, not -x");
  const bool any_kind = a.tcp || a.udp || a.unix_sockets;
  query.tcp = !any_kind || a.tcp;
  query.udp = !any_kind || a.udp;
  query.unix_sockets = !expression && (!any_kind || a.unix_sockets);
  query.tcp_info = a.info;
  query.bytecode = filter.bytecode;
  if (filter.states && !a.state.empty())
    return std::string("give states either with --state or as 'state S', not both");
  if (filter.states) {
    query.states = *filter.states;
  } else if (!a.state.empty()) {
    const auto states = tools::parse_state_set(a.state);
    if (!states) return fmt::format("unknown state '{}'", a.state);
    query.states = *states;
  } else {
    query.states = a.all ? tools::kAllStates : a.listening ? tools::kListeningStates : tools::kConnectedStates;
  }
  if (a.all_netns && a.proc) return std::string("--all-netns reads netlink, not --proc");
  return query;
}

std::vector<tools::SocketEntry> list(const SocketsArgs& a, const tools::SocketQuery& query) {
  if (a.all_netns) return tools::list_sockets_all_netns(query).value();
  return (a.proc ? tools::list_sockets_proc(query) : tools::list_sockets(query)).value();
}

void write_out(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
}

int run(const SocketsArgs& a) {
  const auto checked = query_of(a);
  if (const auto* message = std::get_if<std::string>(&checked)) return usage_error(*message);
  const auto& query = std::get<tools::SocketQuery>(checked);
  // An empty table would say the process holds no sockets; it does not exist at all.
  std::error_code unreadable;  // the non-throwing overload: no raw filesystem_error text
  if (a.pid != 0 && !std::filesystem::exists(fmt::format("/proc/{}", a.pid), unreadable)) {
    fmt::print(stderr, "sockit sockets: no process with pid {}\n", a.pid);
    return 1;
  }
  const tools::TableOptions table{.numeric = a.numeric, .processes = a.processes, .netns = a.all_netns};
  for (int round = 1;; ++round) {
    // The /proc walk for owners takes as long as the dump: both at once, on two cores.
    std::future<tools::SocketOwners> owners;
    if (a.processes || a.pid != 0) owners = std::async(std::launch::async, tools::socket_owners);
    auto entries = list(a, query);
    if (owners.valid()) tools::attach_owners(entries, owners.get());
    if (a.port != 0 || a.pid != 0) std::erase_if(entries, [&](const auto& e) { return !wanted(e, a); });
    if (a.json) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& e : entries) list.push_back(to_json(e));
      fmt::print("{}\n", a.watch > 0 ? list.dump() : list.dump(2));
    } else {
      if (a.watch > 0) fmt::print("\x1b[H\x1b[2J");  // clear the terminal, as watch(1) does
      write_out(tools::format_socket_table(entries, table));
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
  auto* listening = cmd->add_flag("-l,--listening", a->listening,
                                  "only listening sockets: LISTEN, and UNCONN (unconnected UDP and Unix)");
  cmd->add_flag("-a,--all", a->all, "every state (default, as ss: all but LISTEN, UNCONN, TIME-WAIT, SYN-RECV)")
      ->excludes(listening);
  cmd->add_flag("-n,--numeric", a->numeric, "port numbers, not service names");
  cmd->add_flag("-p,--processes", a->processes, "owning processes (pid, name, fd) from /proc/*/fd");
  cmd->add_flag("-i,--info", a->info, "TCP internals: rtt/rttvar (ms), cwnd, mss, retransmits");
  cmd->add_option("--state", a->state,
                  "only this state or group: established, listening, time-wait, connected, ... (as 'state S')")
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
  cmd->add_flag("--all-netns", a->all_netns,
                "sockets of every network namespace (/run/netns and those of processes), with a Netns "
                "column; needs CAP_SYS_ADMIN");
  cmd->add_option("filter", a->filter,
                  "ss's FILTER: [state S | exclude S]... [EXPRESSION], filtered by the kernel");
  cmd->footer(
      "Reads netlink sock_diag (what ss uses), falling back to /proc/net when netlink is missing.\n"
      "FILTER, as ss takes it (the kernel runs it as inet_diag bytecode):\n"
      "  state S / exclude S   S: a state (established, syn-sent, syn-recv, fin-wait-1, fin-wait-2,\n"
      "                        time-wait, closed, close-wait, last-ack, listening, closing) or a group\n"
      "                        (all, connected, synchronized, bucket, big); repeatable\n"
      "  src|dst [=|!=] HOST   HOST: 127.0.0.1, 10.0.0.0/8, ::1, [::1]:22, *:22, :22 (numeric only)\n"
      "  sport|dport [OP] :PORT   OP: = != < <= > >= (or eq ne lt le gt ge)\n"
      "  EXPR and|&& EXPR, EXPR or|| EXPR, not|! EXPR, ( EXPR ); 'a b' means 'a and b'\n\n"
      "Examples:\n"
      "  sockit sockets -tulnp            # what netstat -tulpn shows\n"
      "  sockit sockets -tn state established '( dport = :22 or sport = :22 )'\n"
      "  sockit sockets -tan dst 10.0.0.0/8 and dport '>' :1024\n"
      "  sockit sockets -tn --all-netns   # every network namespace, with a Netns column\n"
      "  sockit sockets -x -a --json");
  return {cmd, [a] { return run(*a); }};
}

}  // namespace sockit::cli
