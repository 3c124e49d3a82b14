// sockit nc: OpenBSD netcat's command line (and its users' habits: -N, -q, -p, -n, port ranges
// with -z, "succeeded" with -v) over tools::run_nc.
#include <fmt/core.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "cli/option_checks.hpp"
#include "cli/usage_error.hpp"
#include "net/text.hpp"
#include "tools/nc.hpp"
#include "tools/nc_exec.hpp"
#include "tools/scan.hpp"

namespace sockit::cli {
namespace {

struct NcArgs {
  std::vector<std::string> positional;
  bool listen = false, keep = false, udp = false, unix_socket = false, zero = false, verbose = false;
  bool ipv4 = false, ipv6 = false, numeric = false, shutdown_on_eof = false;
  double wait = 0;
  std::optional<double> quit;
  unsigned source_port = 0;
  std::string exec, shell;
  bool ssl = false, ssl_verify = false, broker = false, chat = false;
  std::string ssl_trustfile, ssl_cert, ssl_key, ssl_alpn, ssl_servername;
  std::size_t broker_queue = 1 << 20;
};

std::chrono::milliseconds millis(double seconds) {
  return std::chrono::milliseconds(static_cast<long long>(std::ceil(seconds * 1000)));
}

// A Unix socket's path goes when nc -l -U is stopped by SIGINT or SIGTERM, as it does when nc
// ends by itself (tools' UnlinkOnExit). The handler may only make async-signal-safe calls.
char g_unix_path[sizeof(sockaddr_un::sun_path) + 1];

void unlink_and_die(int signal_number) {
  ::unlink(g_unix_path);
  ::signal(signal_number, SIG_DFL);
  ::raise(signal_number);
}

void unlink_on_signals(const std::string& path) {
  if (path.size() >= sizeof(g_unix_path)) return;  // too long to bind anyway
  std::memcpy(g_unix_path, path.c_str(), path.size() + 1);
  for (int signal_number : {SIGINT, SIGTERM, SIGHUP})
    if (::signal(signal_number, unlink_and_die) == SIG_IGN) ::signal(signal_number, SIG_IGN);  // nohup, &
}

// "20-30": a range of ports (only with -z, as OpenBSD nc; no open ends as scan -p has).
bool is_range(const std::string& text) {
  const auto dash = text.find('-');
  return dash != std::string::npos && dash > 0 && dash + 1 < text.size() &&
         text.find_first_not_of("0123456789-") == std::string::npos;
}

// HOST PORT..., -l [HOST] [PORT], -U PATH: into `o`, and the ports to try (-z may give several).
std::vector<std::string> targets(const NcArgs& a, tools::NcOptions& o) {
  const auto& p = a.positional;
  if (a.unix_socket) {
    if (p.size() != 1) throw UsageError("-U takes one PATH");
    if (p[0].empty()) throw UsageError("-U: the PATH must not be empty");
    if (a.udp) throw UsageError("-U works with stream sockets only (no -u)");
    o.unix_path = p[0];
    return {""};
  }
  if (a.listen) {
    // nc -l [HOST] PORT, or the traditional nc -l -p PORT [HOST].
    const std::size_t wanted = a.source_port ? 0 : 1;
    if (p.size() < wanted || p.size() > wanted + 1)
      throw UsageError(a.source_port ? "with -l -p PORT, give at most a HOST" : "expected -l [HOST] PORT");
    const std::string port = a.source_port ? std::to_string(a.source_port) : p.back();
    if (p.size() == wanted + 1) {
      if (auto problem = checks::check_host_text(p.front()); !problem.empty())
        throw UsageError(problem + " (leave the HOST out to listen on every address)");
      o.host = p.front();
    }
    if (auto problem = checks::check_port_text(port, true); !problem.empty()) throw UsageError(problem);
    o.port = port;
    return {port};
  }
  if (p.size() < 2) throw UsageError("expected HOST PORT (or -l [HOST] PORT, or -U PATH)");
  if (auto problem = checks::check_host_text(p[0]); !problem.empty()) throw UsageError(problem);
  o.host = p[0];
  std::vector<std::string> ports;
  for (std::size_t i = 1; i < p.size(); ++i) {
    if (is_range(p[i])) {
      auto range = tools::parse_ports(p[i]);
      if (!range) throw UsageError(range.error().what());
      for (auto port : *range) ports.push_back(std::to_string(port));
    } else if (auto problem = checks::check_port_text(p[i], false); !problem.empty()) {
      throw UsageError(problem);
    } else {
      ports.push_back(p[i]);
    }
  }
  if (ports.size() > 1 && !a.zero) throw UsageError("several ports or a port range need -z");
  return ports;
}

// Any --ssl-* option implies --ssl, as with ncat.
std::optional<tools::TlsOptions> tls_options_of(const NcArgs& a) {
  const bool any = a.ssl || a.ssl_verify || !a.ssl_trustfile.empty() || !a.ssl_cert.empty() || !a.ssl_key.empty() ||
                   !a.ssl_alpn.empty() || !a.ssl_servername.empty();
  if (!any) return std::nullopt;
  if (!a.ssl_key.empty() && a.ssl_cert.empty()) throw UsageError("--ssl-key needs --ssl-cert");
  tools::TlsOptions tls{.verify = a.ssl_verify || !a.ssl_trustfile.empty(),
                        .trust_file = a.ssl_trustfile,
                        .cert_file = a.ssl_cert,
                        .key_file = a.ssl_key,
                        .alpn = {}};
  if (!a.ssl_alpn.empty()) {
    auto names = tools::parse_alpn_list(a.ssl_alpn);
    if (!names) throw UsageError(std::string("--ssl-alpn: ") + names.error().what());
    tls.alpn = std::move(*names);
  }
  return tls;
}

tools::NcOptions options_of(const NcArgs& a) {
  tools::NcOptions o;
  o.listen = a.listen;
  o.keep_listening = a.keep;
  o.udp = a.udp;
  o.zero_io = a.zero;
  o.numeric = a.numeric;
  o.family = a.ipv4 ? AF_INET : a.ipv6 ? AF_INET6 : AF_UNSPEC;
  o.timeout = millis(a.wait);
  if (a.quit) o.quit_after_input_eof = millis(*a.quit);
  if (!a.listen) o.source_port = static_cast<std::uint16_t>(a.source_port);
  if (!a.exec.empty()) o.program = tools::split_command(a.exec);
  if (!a.shell.empty()) o.program = tools::shell_command(a.shell);
  if (a.udp && a.keep) throw UsageError("-k needs a stream socket (no -u)");
  if (a.udp && !o.program.empty()) throw UsageError("-e/-c need a stream socket (no -u)");
  o.tls = tls_options_of(a);
  if (o.tls && a.udp) throw UsageError("--ssl needs a stream socket (no -u: DTLS is not supported)");
  if (o.tls && !o.program.empty()) throw UsageError("--ssl does not go with -e/-c");
  if (o.tls && a.zero) throw UsageError("--ssl does not go with -z (which only checks that the port is open)");
  o.tls_server_name = a.ssl_servername;
  o.chat = a.chat;
  o.broker = a.broker || a.chat;
  o.broker_max_queued = a.broker_queue;
  if (o.broker) {
    const char* which = a.chat ? "--chat" : "--broker";
    if (!a.listen) throw UsageError(std::string(which) + " needs -l");
    if (a.udp || !o.program.empty() || a.zero || o.tls)
      throw UsageError(std::string(which) +
                       " works with plain TCP or Unix stream clients only (no -u, -e, -c, -z, --ssl)");
  }
  return o;
}

// -z over several ports: each one is tried and told with -v; success if any answered.
int probe_each(tools::NcOptions o, const std::vector<std::string>& ports, const tools::NcNotice& notice) {
  bool any = false;
  for (const auto& port : ports) {
    o.port = port;
    if (auto r = tools::run_nc(o, notice)) any = true;
    else notice(r.error().what());
  }
  return any ? 0 : 1;
}

int run(const NcArgs& a) {
  auto o = options_of(a);
  const auto ports = targets(a, o);
  if (o.port.empty() && !ports.empty()) o.port = ports.front();

  // A closed peer or output must be an error we report (or, for the output, a quiet end), not
  // a silent death by SIGPIPE.
  ::signal(SIGPIPE, SIG_IGN);
  if (a.listen && !o.unix_path.empty()) unlink_on_signals(o.unix_path);
  const tools::NcNotice notice = [&a](const std::string& line) {
    if (a.verbose) fmt::print(stderr, "sockit nc: {}\n", line);
  };
  const tools::NcNotice warning = [](const std::string& line) { fmt::print(stderr, "sockit nc: {}\n", line); };
  if (ports.size() > 1) return probe_each(o, ports, notice);
  auto summary = tools::run_nc(o, notice, warning).value();
  if (summary.output_closed) return 0;  // `nc ... | head` had what it wanted
  if (a.verbose && !a.zero)
    fmt::print(stderr, "sockit nc: sent {}, received {}{}{}\n", net::counted(summary.sent, "byte"),
               net::counted(summary.received, "byte"),
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
  cmd->add_option("args", a->positional, "HOST PORT to connect (with -z: PORT... or FIRST-LAST); "
                                         "-l [HOST] PORT to listen; -U PATH");
  cmd->add_flag("-l,--listen", a->listen, "listen for a connection instead of connecting");
  cmd->add_flag("-k,--keep-listening", a->keep,
                "with -l: keep accepting clients (with -e/-c: all at once, a program each)");
  cmd->add_flag("-u,--udp", a->udp, "UDP instead of TCP");
  cmd->add_flag("-U,--unix", a->unix_socket, "a Unix stream socket at PATH");
  cmd->add_flag("-4", a->ipv4, "IPv4 only");
  cmd->add_flag("-6", a->ipv6, "IPv6 only");
  cmd->add_flag("-n,--numeric", a->numeric, "HOST and PORT are numbers: no DNS or service-name look-up");
  cmd->add_option("-p,--source-port", a->source_port,
                  "connect from this local port; with -l, the port to listen on (nc -l -p PORT)")
      ->transform(checks::port());
  cmd->add_option("-w,--wait", a->wait, "connect timeout and idle timeout in seconds; with -l and no -k, also how "
                                        "long to wait for the client (0: none)")
      ->transform(checks::seconds_or_zero());
  cmd->add_option("-q,--quit", a->quit, "after input EOF, quit this many seconds later even if the peer "
                                        "has not closed (0: at once; default: wait for the peer)")
      ->transform(checks::seconds_or_zero());
  cmd->add_flag("-N,--shutdown", a->shutdown_on_eof,
                "send FIN at input EOF (always done; accepted for OpenBSD nc's scripts)");
  cmd->add_flag("-z,--zero-io", a->zero, "connect (or accept), report, close: is the port open?");
  cmd->add_flag("-v,--verbose", a->verbose, "say what connected to what (\"... succeeded!\"), and the byte counts, "
                                            "on stderr");
  auto* exec = cmd->add_option("-e,--exec", a->exec, "serve each connection with this program (no shell)")
                   ->check(checks::non_empty());
  cmd->add_option("-c,--sh-exec", a->shell, "serve each connection with this shell command")
      ->excludes(exec)
      ->check(checks::non_empty());
  cmd->add_flag("--ssl", a->ssl, "TLS over the connection (OpenSSL, TLS 1.2 or 1.3); listening without --ssl-cert "
                                  "uses a throwaway self-signed certificate (CN=localhost)");
  cmd->add_flag("--ssl-verify", a->ssl_verify,
                "verify the server's certificate with the system trust store, against HOST (or --ssl-servername); "
                "with -l, require a client certificate");
  cmd->add_option("--ssl-trustfile", a->ssl_trustfile, "PEM CA bundle to verify with instead (implies --ssl-verify)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--ssl-cert", a->ssl_cert, "PEM certificate (chain) to present")->check(CLI::ExistingFile);
  cmd->add_option("--ssl-key", a->ssl_key, "PEM private key of --ssl-cert (default: in --ssl-cert's file)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--ssl-alpn", a->ssl_alpn, "ALPN protocols, comma-separated (h2,http/1.1): offered when connecting, "
                                             "chosen from with -l");
  cmd->add_option("--ssl-servername", a->ssl_servername, "the name to send as SNI and verify (default: HOST)")
      ->check(checks::non_empty());
  cmd->add_flag("--broker", a->broker, "with -l: accept many clients and send what each sends to all the others "
                                       "(and standard input to all), like ncat --broker");
  cmd->add_flag("--chat", a->chat, "--broker with ncat's chat: clients are <userN>, each line goes out as "
                                   "\"<userN> line\", joins and leaves are announced");
  cmd->add_option("--broker-queue", a->broker_queue,
                  "broker: while a client has more than this many bytes waiting, nobody is read; one that stays "
                  "so for 5 s does not read and is dropped (default 1048576)")
      ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 30));
  cmd->footer(
      "Standard input goes to the peer and what the peer sends goes to standard output. At input\n"
      "EOF, nc sends FIN (shutdown SHUT_WR) and keeps reading until the peer closes too (or -q\n"
      "seconds); it exits 0 when both directions finished or the output's reader left (| head),\n"
      "1 when connecting or a transfer failed (a reset, a peer that left before taking all input).\n"
      "When input is a terminal, the peer's close ends it. UDP has no FIN: after input EOF a UDP\n"
      "client waits -w seconds (default 1) for replies; input that ends at once sends one empty\n"
      "datagram, which asks a daytime or time server.\n"
      "Bulk transfers use splice() (zero-copy) when input/output are pipes or files.\n"
      "With --ssl, input EOF sends TLS close_notify (then FIN) and nc keeps reading until the peer\n"
      "closes; a failed handshake or certificate check is one line on stderr and exit 1.\n"
      "--broker/--chat never end by themselves (stop them with Ctrl-C).\n\n"
      "Examples:\n"
      "  sockit nc -v 127.0.0.1 10007 < request.bin > reply.bin\n"
      "  sockit nc -l 9999 > received.bin          # the other side: sockit nc HOST 9999 < file\n"
      "  sockit nc -lk 8080 -c 'echo hello'        # serve a program to each client\n"
      "  sockit nc -u 127.0.0.1 10013 < /dev/null  # ask a UDP daytime server\n"
      "  sockit nc -zv -w 1 127.0.0.1 20-25        # which of these ports are open?\n"
      "  sockit nc --ssl -l 4433 > received.bin    # TLS listener, throwaway certificate\n"
      "  sockit nc --ssl-trustfile ca.pem --ssl-alpn h2,http/1.1 localhost 4433 < request.bin\n"
      "  sockit nc --ssl-verify example.org 443    # system trust store, SNI example.org\n"
      "  sockit nc -l --chat 9999                  # chat room: sockit nc HOST 9999 to join");
  cmd->callback([a] {
    if (a->ipv4 && a->ipv6) throw CLI::ValidationError("-4/-6", "choose one");
  });
  return {cmd, [a]() -> int {
            try {
              return run(*a);
            } catch (const UsageError& e) {
              fmt::print(stderr, "sockit nc: {}\n", e.what());
              return 2;
            }
          }};
}

}  // namespace sockit::cli
