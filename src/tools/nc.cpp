#include "tools/nc.hpp"

#include <fmt/core.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>

#include "net/address.hpp"
#include "net/deadline.hpp"
#include "net/io.hpp"
#include "net/socket.hpp"
#include "tools/nc_broker.hpp"
#include "tools/nc_exec.hpp"
#include "tools/nc_relay.hpp"
#include "tools/nc_tls_relay.hpp"
#include "tools/scan.hpp"

namespace sockit::tools {
namespace {

using net::Address;
using net::Error;
using net::Result;
using net::Socket;
using namespace std::chrono_literals;

// After input EOF a UDP client waits this long for replies that are still on their way.
constexpr std::chrono::milliseconds kUdpLinger = 1000ms;

const char* kind(const NcOptions& o) { return !o.unix_path.empty() ? "unix" : o.udp ? "udp" : "tcp"; }

std::string text_of(const Result<Address>& address) { return address ? address->to_string() : "?"; }

// Removes a Unix socket's path when the listener is done with it.
class UnlinkOnExit {
 public:
  explicit UnlinkOnExit(std::string path) : path_(std::move(path)) {}
  ~UnlinkOnExit() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  UnlinkOnExit(const UnlinkOnExit&) = delete;
  UnlinkOnExit& operator=(const UnlinkOnExit&) = delete;

 private:
  std::string path_;
};

// Who is at the other end, for error messages: asked from the socket, else what we were told
// (a peer that reset at once leaves the socket without an address).
std::string peer_name(const Socket& socket, const NcOptions& o) {
  if (!o.unix_path.empty()) return "unix:" + o.unix_path;
  if (auto peer = socket.peer_address()) return peer->to_string();
  return o.host.find(':') == std::string::npos ? o.host + ":" + o.port : "[" + o.host + "]:" + o.port;
}

// The TLS handshake on a connected socket, then the relay through it.
Result<RelayResult> relay_over_tls(Socket& socket, const NcOptions& o, SSL_CTX* tls, const RelayOptions& relay,
                                   const NcNotice& notice) {
  if (auto r = net::set_nonblocking(socket.fd()); !r) return r.error();
  const std::string& name = o.tls_server_name.empty() ? o.host : o.tls_server_name;
  auto stream = o.listen ? TlsStream::server(tls, socket.fd(), relay.peer_name)
                         : TlsStream::client(tls, socket.fd(), name, relay.peer_name);
  if (!stream) return stream.error();
  const auto deadline = o.timeout.count() > 0 ? net::Deadline::after(o.timeout) : net::Deadline::never();
  if (auto r = stream->handshake(deadline); !r) return r.error();
  notice("TLS: " + stream->description());
  return relay_tls(o.input, o.output, *stream, socket.fd(), relay);
}

// Serves one connected socket: the program, or a relay between input/output and the socket
// (through TLS when `tls` is given).
Result<void> serve(Socket& socket, const NcOptions& o, SSL_CTX* tls, NcSummary& summary, const NcNotice& notice) {
  ++summary.connections;
  if (!o.program.empty()) {
    auto status = run_program_on(socket.fd(), o.program);
    if (!status) return status.error();
    summary.program_status = *status;
    return {};
  }
  RelayOptions relay{.idle_timeout = o.timeout,
                     .linger_after_input_eof = 0ms,
                     .peer_name = peer_name(socket, o),
                     .quit_after_input_eof = o.quit_after_input_eof,
                     .ask_on_empty_input = o.udp && !o.listen};
  Result<RelayResult> r = RelayResult{};
  if (tls) {
    r = relay_over_tls(socket, o, tls, relay, notice);
  } else if (o.udp) {
    if (!o.listen) relay.linger_after_input_eof = o.timeout.count() > 0 ? o.timeout : kUdpLinger;
    r = relay_datagrams(o.input, o.output, socket.fd(), relay);
  } else {
    r = relay_stream(o.input, o.output, socket.fd(), relay);
  }
  if (!r) return r.error();
  summary.sent += r->sent;
  summary.received += r->received;
  summary.timed_out = summary.timed_out || r->timed_out;
  summary.zero_copy = summary.zero_copy || r->zero_copy;
  summary.output_closed = summary.output_closed || r->output_closed;
  return {};
}

// UDP has no handshake: -z sends an empty datagram and waits (-w, default 1 s) for the ICMP
// port unreachable that says closed; a reply or silence counts as open (as OpenBSD nc -zu).
Result<void> probe_udp(const Socket& socket, const NcOptions& o) {
  if (auto sent = net::send_some(socket.fd(), net::ConstBytes{}); !sent) return sent.error();
  std::byte reply[512];
  const auto wait = o.timeout.count() > 0 ? o.timeout : kUdpLinger;
  auto got = net::recv_some(socket.fd(), reply, net::Deadline::after(wait));
  if (!got && !got.error().timed_out()) return got.error();
  return {};
}

Result<Socket> connect_socket(const NcOptions& o) {
  const int type = o.udp ? SOCK_DGRAM : SOCK_STREAM;
  if (!o.unix_path.empty()) return net::connect_to("unix:" + o.unix_path, "", o.timeout, type);
  return net::connect_to(o.host, o.port,
                         {.timeout = o.timeout, .type = type, .family = o.family, .numeric = o.numeric,
                          .local_port = o.source_port});
}

// OpenBSD nc's words, so that scripts that look for "succeeded" work.
std::string connected_line(const Socket& socket, const NcOptions& o) {
  const auto local = text_of(socket.local_address());
  if (!o.unix_path.empty()) return "Connection to " + o.unix_path + " succeeded! (unix)";
  const auto peer = socket.peer_address();
  const auto port = peer ? peer->port() : 0;
  const auto name = service_name(port, kind(o));
  return "Connection to " + o.host + " " + std::to_string(port) + " port [" + kind(o) + "/" +
         (name.empty() ? "*" : name) + "] succeeded! (from " + local + " to " + text_of(peer) + ")";
}

Result<NcSummary> connect_mode(const NcOptions& o, const NcNotice& notice) {
  TlsContext tls;
  if (o.tls) {
    auto made = client_context(*o.tls);
    if (!made) return made.error();
    tls = std::move(*made);
  }
  auto socket = connect_socket(o);
  if (!socket) return socket.error();
  NcSummary summary;
  if (o.zero_io) {
    if (o.udp)
      if (auto r = probe_udp(*socket, o); !r) return r.error();
    notice(connected_line(*socket, o));
    ++summary.connections;
    return summary;
  }
  notice(connected_line(*socket, o));
  if (auto r = serve(*socket, o, tls.ctx.get(), summary, notice); !r) return r.error();
  return summary;
}

Result<Address> listen_address(const NcOptions& o) {
  if (!o.unix_path.empty()) return Address::unix_path(o.unix_path);
  const int numeric = o.numeric ? AI_NUMERICHOST | AI_NUMERICSERV : 0;
  if (o.host.empty()) {
    auto any = Address::any(o.family == AF_INET ? AF_INET : AF_INET6, 0);
    auto ports = net::resolve("", o.port, {.family = any.family(), .socktype = o.udp ? SOCK_DGRAM : SOCK_STREAM,
                                           .flags = AI_PASSIVE | AI_NUMERICHOST | numeric});
    if (!ports) return ports.error();
    any.set_port(ports->front().address.port());
    return any;
  }
  auto found = net::resolve(o.host, o.port, {.family = o.family, .socktype = o.udp ? SOCK_DGRAM : SOCK_STREAM,
                                             .flags = AI_PASSIVE | numeric});
  if (!found) return found.error();
  return found->front().address;
}

// -w in listen mode bounds the wait for the one client (a connection, or the first datagram);
// with -k the listener waits for clients for ever and -w bounds only each one's idle time.
Result<void> await_client(const Socket& listener, const NcOptions& o, std::string_view call, std::string_view client) {
  if (o.timeout.count() == 0 || o.keep_listening) return {};
  auto ready = net::wait_ready(listener.fd(), POLLIN, net::Deadline::after(o.timeout), call);
  if (ready || !ready.error().timed_out()) return ready ? Result<void>{} : Result<void>(ready.error());
  return Error(std::string(call), ready.error().code(), text_of(listener.local_address()),
               fmt::format("no {} within {:g} s", client, static_cast<double>(o.timeout.count()) / 1000));
}

Result<NcSummary> listen_udp(const Address& address, const NcOptions& o, const NcNotice& notice) {
  auto socket = net::bind_datagram(address);
  if (!socket) return socket.error();
  notice("listening on " + text_of(socket->local_address()) + " (udp)");
  // The first datagram's sender becomes the peer, as with nc -u -l.
  if (auto waited = await_client(*socket, o, "wait for a datagram", "datagram"); !waited) return waited.error();
  std::vector<std::byte> first(65536);
  Address from;
  auto n = net::recv_from(socket->fd(), first, from);
  if (!n) return n.error();
  if (auto r = socket->connect(from); !r) return r.error();
  notice("connection from " + from.to_string() + " to " + text_of(socket->local_address()) + " (udp)");
  NcSummary summary;
  std::size_t done = 0;
  while (done < *n) {
    ssize_t w = ::write(o.output, first.data() + done, *n - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EPIPE) {
      summary.output_closed = true;
      return summary;
    }
    if (w < 0) return net::errno_error("write to output");
    done += static_cast<std::size_t>(w);
  }
  summary.received += *n;
  if (auto r = serve(*socket, o, nullptr, summary, notice); !r) return r.error();
  return summary;
}

// -k with a program: each client gets its own copy of the program at once (like ncat -k -e);
// finished ones are reaped whenever the listener wakes up, at least every 200 ms.
Result<NcSummary> serve_programs_concurrently(Socket& listener, const NcOptions& o, const NcNotice& notice) {
  NcSummary summary;
  std::vector<pid_t> running;
  for (;;) {
    reap_programs(running);
    auto ready = net::wait_ready(listener.fd(), POLLIN, net::Deadline::after(200ms), "accept");
    if (!ready && ready.error().timed_out()) continue;
    if (!ready) return ready.error();
    Address peer;
    auto client = listener.accept(&peer);
    if (!client) return client.error();
    notice("connection from " + (peer.family() == AF_UNIX ? std::string("unix client") : peer.to_string()) +
           " to " + text_of(client->local_address()) + " (" + kind(o) + ")");
    auto pid = start_program_on(client->fd(), o.program);
    if (!pid) return pid.error();
    running.push_back(*pid);
    ++summary.connections;
  }
}

Result<NcSummary> broker(const Socket& listener, const NcOptions& o, const NcNotice& notice, const NcNotice& warning) {
  auto served = run_broker(listener, {.chat = o.chat, .max_queued = o.broker_max_queued, .input = o.input}, notice,
                           warning);
  if (!served) return served.error();
  return NcSummary{.connections = served->connections, .received = served->received};
}

Result<NcSummary> listen_mode(const NcOptions& o, const NcNotice& notice, const NcNotice& warning) {
  auto address = listen_address(o);
  if (!address) return address.error();
  if (o.udp) return listen_udp(*address, o, notice);
  TlsContext tls;
  if (o.tls) {
    auto made = server_context(*o.tls);
    if (!made) return made.error();
    tls = std::move(*made);
    if (!tls.generated_certificate.empty()) notice(tls.generated_certificate);
  }
  auto listener = net::listen_on(*address);
  if (!listener) return listener.error();
  UnlinkOnExit unlink_path(o.unix_path);
  const auto local = text_of(listener->local_address());
  notice("listening on " + local + " (" + kind(o) + ")");
  if (o.broker) return broker(*listener, o, notice, warning);
  if (o.keep_listening && !o.program.empty() && !o.zero_io) return serve_programs_concurrently(*listener, o, notice);
  NcSummary summary;
  do {
    if (auto waited = await_client(*listener, o, "accept", "connection"); !waited) return waited.error();
    Address peer;
    auto client = listener->accept(&peer);
    if (!client) return client.error();
    notice("connection from " + (peer.family() == AF_UNIX ? std::string("unix client") : peer.to_string()) +
           " to " + text_of(client->local_address()) + " (" + kind(o) + ")");
    if (o.zero_io) {
      ++summary.connections;
    } else if (auto r = serve(*client, o, tls.ctx.get(), summary, notice); !r) {
      if (!o.keep_listening) return r.error();
      std::string line = "connection failed: ";
      line += r.error().what();
      notice(line);
    }
    notice("connection closed");
  } while (o.keep_listening);
  return summary;
}

}  // namespace

Result<NcSummary> run_nc(const NcOptions& options, const NcNotice& notice, const NcNotice& warning) {
  const NcNotice quiet = [](const std::string&) {};
  const NcNotice& say = notice ? notice : quiet;
  const NcNotice& warn = warning ? warning : quiet;
  return options.listen ? listen_mode(options, say, warn) : connect_mode(options, say);
}

}  // namespace sockit::tools
