#include <fmt/core.h>
#include <signal.h>
#include <sys/socket.h>

#include <chrono>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "tools/nc.hpp"
#include "tools/nc_exec.hpp"

namespace sockit::cli {
namespace {

struct NcArgs {
  std::vector<std::string> positional;
  bool listen = false, keep = false, udp = false, unix_socket = false, zero = false, verbose = false;
  bool ipv4 = false, ipv6 = false;
  double wait = 0;
  std::string exec, shell;
};

int run(const NcArgs& a) {
  tools::NcOptions o;
  o.listen = a.listen;
  o.keep_listening = a.keep;
  o.udp = a.udp;
  o.zero_io = a.zero;
  o.family = a.ipv4 ? AF_INET : a.ipv6 ? AF_INET6 : AF_UNSPEC;
  o.timeout = std::chrono::milliseconds(static_cast<long>(std::ceil(a.wait * 1000)));
  if (!a.exec.empty()) o.program = tools::split_command(a.exec);
  if (!a.shell.empty()) o.program = tools::shell_command(a.shell);
  const auto& p = a.positional;
  if (a.unix_socket) {
    if (p.size() != 1) return fmt::print(stderr, "sockit nc: -U takes one PATH\n"), 2;
    if (a.udp) return fmt::print(stderr, "sockit nc: -U works with stream sockets only (no -u)\n"), 2;
    o.unix_path = p[0];
  } else if (a.listen && p.size() == 1) {
    o.port = p[0];
  } else if (p.size() == 2) {
    o.host = p[0];
    o.port = p[1];
  } else {
    fmt::print(stderr, "sockit nc: expected HOST PORT (or -l [HOST] PORT, or -U PATH)\n");
    return 2;
  }
  if (a.udp && a.keep) return fmt::print(stderr, "sockit nc: -k needs a stream socket (no -u)\n"), 2;
  if (a.udp && !o.program.empty()) return fmt::print(stderr, "sockit nc: -e/-c need a stream socket (no -u)\n"), 2;

  // A closed peer or output must be an error we report, not a silent death by SIGPIPE.
  ::signal(SIGPIPE, SIG_IGN);
  const tools::NcNotice notice = [&a](const std::string& line) {
    if (a.verbose) fmt::print(stderr, "sockit nc: {}\n", line);
  };
  auto summary = tools::run_nc(o, notice).value();
  if (a.verbose && !a.zero)
    fmt::print(stderr, "sockit nc: sent {} bytes, received {} bytes{}{}\n", summary.sent, summary.received,
               summary.zero_copy ? " (zero-copy splice)" : "", summary.timed_out ? ", ended by idle timeout" : "");
  if (summary.timed_out && !a.udp) {
    fmt::print(stderr, "sockit nc: nothing moved for {} s: gave up\n", a.wait);
    return 1;
  }
  return 0;
}

}  // namespace

Command add_nc(CLI::App& app) {
  auto a = std::make_shared<NcArgs>();
  auto* cmd = app.add_subcommand("nc", "netcat: connect or listen, relay stdin/stdout over TCP, UDP or Unix sockets");
  cmd->add_option("args", a->positional, "HOST PORT to connect; -l [HOST] PORT to listen; -U PATH");
  cmd->add_flag("-l,--listen", a->listen, "listen for a connection instead of connecting");
  cmd->add_flag("-k,--keep-listening", a->keep,
                "with -l: keep accepting clients (with -e/-c: all at once, a program each)");
  cmd->add_flag("-u,--udp", a->udp, "UDP instead of TCP");
  cmd->add_flag("-U,--unix", a->unix_socket, "a Unix stream socket at PATH");
  cmd->add_flag("-4", a->ipv4, "IPv4 only");
  cmd->add_flag("-6", a->ipv6, "IPv6 only");
  cmd->add_option("-w,--wait", a->wait, "connect timeout and idle timeout in seconds (0: none)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("-z,--zero-io", a->zero, "connect (or accept), report, close: is the port open?");
  cmd->add_flag("-v,--verbose", a->verbose, "say what connected to what, and the byte counts, on stderr");
  auto* exec = cmd->add_option("-e,--exec", a->exec, "serve each connection with this program (no shell)");
  cmd->add_option("-c,--sh-exec", a->shell, "serve each connection with this shell command")->excludes(exec);
  cmd->footer(
      "Standard input goes to the peer and what the peer sends goes to standard output. At input\n"
      "EOF, nc sends FIN (shutdown SHUT_WR) and keeps reading until the peer closes too; it exits 0\n"
      "when both directions finished, 1 when connecting or a transfer failed (a reset, a peer that\n"
      "left before taking all input). When input is a terminal, the peer's close ends it. UDP has\n"
      "no FIN: after input EOF a UDP client waits -w seconds (default 1) for replies.\n"
      "Bulk transfers use splice() (zero-copy) when input/output are pipes or files.\n\n"
      "Examples:\n"
      "  sockit nc -v 127.0.0.1 10007 < request.bin > reply.bin\n"
      "  sockit nc -l 9999 > received.bin          # the other side: sockit nc HOST 9999 < file\n"
      "  sockit nc -lk 8080 -c 'echo hello'        # serve a program to each client\n"
      "  sockit nc -u 127.0.0.1 10013 < /dev/null  # ask a UDP daytime server\n"
      "  sockit nc -z -w 1 127.0.0.1 22            # is the port open?");
  cmd->callback([a] {
    if (a->ipv4 && a->ipv6) throw CLI::ValidationError("-4/-6", "choose one");
  });
  return {cmd, [a] { return run(*a); }};
}

}  // namespace sockit::cli
