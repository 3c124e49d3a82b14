#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "net/result.hpp"
#include "tools/tls_context.hpp"

namespace sockit::tools {

/// What `sockit nc` was asked to do.
struct NcOptions {
  std::string host;       ///< connect: the peer; listen: the local address ("" = every address)
  std::string port;       ///< a number or a service name
  std::string unix_path;  ///< non-empty: a Unix stream socket instead of TCP/UDP
  bool listen = false;
  bool keep_listening = false;  ///< -k: after a client, accept the next one
  bool udp = false;
  bool zero_io = false;  ///< -z: connect, report, close
  int family = 0;        ///< AF_UNSPEC, AF_INET or AF_INET6
  bool numeric = false;  ///< -n: host and port are numbers; no DNS or /etc/services look-up
  std::uint16_t source_port = 0;  ///< -p: connect from this local port (0: any)
  /// Connect timeout, and the idle timeout of a transfer (0: none).
  std::chrono::milliseconds timeout{0};
  /// -q: after input EOF, quit this long later even if the peer has not closed.
  std::optional<std::chrono::milliseconds> quit_after_input_eof;
  /// Non-empty: serve each connection with this program instead of input/output.
  std::vector<std::string> program;
  /// --ssl: TLS over the TCP (or Unix stream) connection.
  std::optional<TlsOptions> tls;
  /// The name the server's certificate must carry and SNI sends ("": the host connected to).
  std::string tls_server_name;
  /// --broker (listen mode): relay between all connected clients; --chat: ncat's chat on top.
  bool broker = false;
  bool chat = false;
  /// Broker: a client with more than this many bytes waiting for it is dropped.
  std::size_t broker_max_queued = 1 << 20;
  int input = 0;   ///< borrowed; normally standard input
  int output = 1;  ///< borrowed; normally standard output
};

/// Totals over every connection served.
struct NcSummary {
  int connections = 0;
  std::uint64_t sent = 0;
  std::uint64_t received = 0;
  bool timed_out = false;
  bool zero_copy = false;
  bool output_closed = false;  ///< the output's reader left (`nc ... | head`): not a failure
  int program_status = 0;  ///< the last program's exit status (with a program)
};

/// Called with one line of what happened; the CLI prints it with -v. A connection reads as
/// OpenBSD nc's does, for scripts that look for "succeeded": "Connection to HOST PORT port
/// [tcp/SERVICE] succeeded! (from LOCAL to PEER)".
using NcNotice = std::function<void(const std::string&)>;

/// Runs netcat as `options` say: connects or listens, then relays (see relay_stream for
/// half-close) or runs the program. Blocks until done (with keep_listening: until an error or
/// the process is stopped). With keep_listening and a program, clients are served at once, each
/// by its own child process; without a program, one after the other.
/// With tls, each connection does the TLS handshake first (listening without a certificate,
/// with a throwaway self-signed one); a handshake failure is the connection's failure. With
/// broker, runs ncat's broker (see run_broker) until stopped. `warning` hears what is always
/// worth saying (a broker client dropped for not reading).
/// Errors name the call and address that failed.
net::Result<NcSummary> run_nc(const NcOptions& options, const NcNotice& notice, const NcNotice& warning = {});

}  // namespace sockit::tools
