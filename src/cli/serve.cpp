// sockit serve (DESIGN.md "Command line"): flags into a serve::ServerConfig, the startup table
// from what the Server bound, and SIGINT/SIGTERM into StopSignal::request().
#include <fmt/format.h>

#include <charconv>
#include <cstdio>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "cli/option_checks.hpp"
#include "cli/stop_on_signals.hpp"
#include "net/address.hpp"
#include "serve/log.hpp"
#include "serve/model.hpp"
#include "serve/server.hpp"
#include "serve/services/services.hpp"
#include "serve/stop_signal.hpp"
#include "serve/udp_guard.hpp"

namespace sockit::cli {
namespace {

struct ServeOptions {
  std::vector<std::string> services;
  std::string model;
  std::string listen;
  bool udp_only = false;
  bool tcp_only = false;
  unsigned threads = 0;
  bool no_offload = false;
  std::size_t max_conns = 10000;
  // Unset: each service's default (every service's when set, unless http has its own).
  std::optional<double> idle_timeout;
  std::optional<double> request_timeout;
  std::optional<double> keepalive_timeout;
  std::optional<double> header_timeout;
  std::size_t max_line = 8192;
  bool quiet = false;
  bool json_log = false;
  bool system_ports = false;
  std::string format = "inetd";
  std::string algorithm = "iterative";
  double grace = 5;
  double udp_rate = serve::kDefaultUdpRate;
  bool list_models = false;
  bool list_services = false;
  serve::services::HttpOptions http;
};

/// Thrown for a usage error: exit 2 with this message.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string thread_count(unsigned n) { return n == 1 ? "1 thread" : fmt::format("{} threads", n); }

std::string concurrency(const std::string& model, unsigned threads) {
  if (threads > 0) return thread_count(threads);
  return model == "fork" ? "process per connection" : "thread per connection";
}

constexpr double kIdleTimeout = 300;
constexpr double kRequestTimeout = 30;
constexpr double kKeepaliveTimeout = 75;  // nginx's keepalive_timeout
constexpr double kHeaderTimeout = 60;     // nginx's client_header_timeout

std::chrono::milliseconds milliseconds_of(double seconds) {
  return std::chrono::milliseconds(static_cast<long long>(seconds * 1000 + 0.5));
}

// 0: never (a year is never enough for a test, and still fits a Deadline).
std::chrono::milliseconds idle_limit(double seconds) {
  return seconds > 0 ? milliseconds_of(seconds) : std::chrono::hours(24 * 365);
}

// SERVICE[:PORT]; the server checks the name.
serve::ServiceRequest parse_service(const std::string& text) {
  const auto colon = text.find(':');
  serve::ServiceRequest request{text.substr(0, colon), std::nullopt};
  if (colon == std::string::npos) return request;
  const std::string digits = text.substr(colon + 1);
  unsigned value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || value > 65535)
    throw UsageError(fmt::format("bad port in '{}': a number from 0 to 65535", text));
  request.port = static_cast<std::uint16_t>(value);
  return request;
}

std::optional<net::Address> parse_listen(const std::string& listen) {
  if (listen.empty()) return std::nullopt;
  std::string text = listen;
  if (text == "localhost") text = "127.0.0.1";
  for (const auto& candidate : {text + ":0", "[" + text + "]:0"}) {
    auto address = net::Address::parse(candidate);
    if (address && address->is_ip()) return *address;
  }
  throw UsageError(fmt::format("--listen {}: not a numeric IPv4 or IPv6 address", listen));
}

int usage(const char* message) {
  std::fflush(stdout);
  fmt::print(stderr, "sockit serve: {}\n", message);
  return 2;
}

serve::ServerConfig configure(const ServeOptions& o, serve::Log& log) {
  serve::ServerConfig config;
  for (const auto& text : o.services) config.services.push_back(parse_service(text));
  config.tcp = !o.udp_only;
  config.udp = !o.tcp_only;
  config.listen = parse_listen(o.listen);
  config.model = o.model;
  config.threads = o.threads;
  config.offload = !o.no_offload;
  config.limits.max_conns = o.max_conns;
  config.limits.idle_timeout = idle_limit(o.idle_timeout.value_or(kIdleTimeout));
  config.limits.max_line = o.max_line;
  config.limits.request_timeout = milliseconds_of(o.request_timeout.value_or(kRequestTimeout));
  config.limits.grace_period = milliseconds_of(o.grace);
  // http's own names for the two, with nginx's defaults; the server-wide flags cover http too
  // when its own are not given.
  auto& http = config.service_limits["http"] = config.limits;
  http.idle_timeout = idle_limit(o.keepalive_timeout.value_or(o.idle_timeout.value_or(kKeepaliveTimeout)));
  http.request_timeout = milliseconds_of(o.header_timeout.value_or(o.request_timeout.value_or(kHeaderTimeout)));
  config.service_options = {o.format, o.algorithm, o.http};
  if (o.quiet) config.service_options.http.access_log.clear();
  config.system_ports = o.system_ports;
  config.udp_rate = o.udp_rate;
  config.log = &log;
  return config;
}

void print_startup(const serve::Server& server, bool every_service, serve::Log& log) {
  if (server.model_is_fallback())
    log.notice(fmt::format("model {} is not in this build; using {}", serve::kPreferredModel, server.model()));
  if (!server.skipped().empty() && every_service)
    log.notice(fmt::format("not built yet, skipped: {}", fmt::join(server.skipped(), " ")));
  else
    for (const auto& what : server.skipped()) log.notice(fmt::format("{} is not built into this sockit; skipped", what));
  for (const auto& l : server.listening()) {
    if (l.transport == serve::Transport::tcp)
      log.notice(fmt::format("listening on {} ({}/tcp, model {}, {})", l.address.to_string(), l.service,
                             server.model(), concurrency(server.model(), l.threads)));
    else
      log.notice(fmt::format("listening on {} ({}/udp, {})", l.address.to_string(), l.service,
                             thread_count(l.threads)));
  }
}

int list_models() {
  for (const auto& m : serve::available_models()) fmt::print("{}\n", m);
  return 0;
}

int list_services() {
  for (const auto& info : serve::services::catalog()) {
    std::string transports;
    if (info.tcp && serve::services::has_tcp(info.name)) transports += " tcp";
    if (info.udp && serve::services::has_udp(info.name)) transports += " udp";
    fmt::print("{:<8} {:>5} {:>5}{}\n", info.name, info.port, info.system_port,
               transports.empty() ? " (not built)" : transports);
  }
  return 0;
}

int run(const ServeOptions& o) {
  if (o.list_models) return list_models();
  if (o.list_services) return list_services();

  // Handlers first: a signal that comes as soon as the startup lines are out must stop cleanly.
  serve::StopSignal stop;
  StopOnSignals signals(stop);
  serve::Log log(stdout, o.quiet, o.json_log ? serve::Log::Format::json : serve::Log::Format::text);
  serve::Server server(configure(o, log));
  print_startup(server, o.services.empty(), log);
  std::fflush(stdout);  // forked children must not inherit unwritten output
  server.run(stop);
  log.notice("stopped");
  return 0;
}

}  // namespace

Command add_serve(CLI::App& app) {
  auto o = std::make_shared<ServeOptions>();
  auto* cmd = app.add_subcommand("serve", "Serve echo, discard, chargen, daytime, time, fib, upper, length, incr, "
                                          "http under any server design");
  cmd->add_option("services", o->services, "SERVICE[:PORT] ... (default: every service on its default port); "
                                            "port 0 picks a free port");
  cmd->add_option("--model", o->model, "server design for TCP: iterative fork thread pool select poll epoll uring "
                                       "(default epoll)")
      ->check(checks::non_empty());
  cmd->add_option("--listen", o->listen,
                  "address every service binds (default: loopback, 127.0.0.1 and ::1; every interface only with "
                  "--listen 0.0.0.0, or --listen :: for IPv6 and IPv4)")
      ->check(checks::non_empty());
  auto* udp = cmd->add_flag("--udp", o->udp_only, "UDP only");
  auto* tcp = cmd->add_flag("--tcp", o->tcp_only, "TCP only");
  udp->excludes(tcp);
  cmd->add_option("--threads", o->threads, "threads of the model (pool workers, reactors); UDP threads per service")
      ->transform(checks::whole(1u, 1024u));
  cmd->add_flag("--no-offload", o->no_offload,
                "event models run CPU-bound requests (fib --algorithm recursive) on their loop instead of on "
                "worker threads: every other client waits (to measure what offload buys)");
  cmd->add_option("--max-conns", o->max_conns, "connections served at once; more are accepted and closed")
      ->capture_default_str()->transform(checks::whole<std::size_t>(1, 10'000'000));
  cmd->add_option("--idle-timeout", o->idle_timeout,
                  "seconds a client may stay silent (0: forever); default 300, http's --keepalive-timeout")
      ->transform(checks::seconds_or_zero());
  cmd->add_option("--request-timeout", o->request_timeout,
                  "seconds a request begun (a line, fib; 2 bytes, incr) may take to arrive whole, however it "
                  "trickles in; then ERR and close (0: no limit); default 30, http's --header-timeout")
      ->transform(checks::seconds_or_zero());
  cmd->add_option("--max-line", o->max_line, "longest request line of text protocols, in bytes")
      ->transform(checks::whole(std::size_t{1}, std::size_t{1} << 30))->capture_default_str();
  cmd->add_option("--grace", o->grace, "seconds in-flight work may take after SIGINT/SIGTERM")
      ->transform(checks::seconds_or_zero())->capture_default_str();
  cmd->add_flag("--quiet", o->quiet, "no per-connection log lines");
  cmd->add_flag("--json-log", o->json_log, "log JSON lines");
  cmd->add_flag("--system-ports", o->system_ports, "default ports 7, 9, 13, 19, 37 instead of 10007 ...");
  cmd->add_option("--format", o->format, "daytime format: inetd (ctime-like) or iso (ISO 8601)")
      ->check(CLI::IsMember({"inetd", "iso"}))->capture_default_str();
  cmd->add_option("--algorithm", o->algorithm, "fib algorithm: iterative (exact) or recursive (the notes', n <= 40)")
      ->check(CLI::IsMember({"iterative", "recursive"}))->capture_default_str();
  cmd->add_option("--root", o->http.root, "http: the directory served (with it, `sockit serve` alone serves http "
                                        "too)")
      ->check(CLI::ExistingDirectory);
  cmd->add_flag("--autoindex", o->http.autoindex, "http: list a directory that has no index.html");
  cmd->add_option("--keepalive-requests", o->http.keepalive_requests,
                  "http: requests one connection may make; the last response says Connection: close")
      ->transform(checks::whole(std::size_t{1}, std::size_t{1} << 40))->capture_default_str();
  cmd->add_option("--keepalive-timeout", o->keepalive_timeout,
                  "http: seconds a connection may wait for its next request (0: forever); default 75 (nginx's), "
                  "or --idle-timeout when that is given")
      ->transform(checks::seconds_or_zero());
  cmd->add_option("--header-timeout", o->header_timeout,
                  "http: seconds a request's line and headers may take to arrive whole; then 408 and close (0: no "
                  "limit); default 60 (nginx's), or --request-timeout when that is given")
      ->transform(checks::seconds_or_zero());
  cmd->add_option("--access-log", o->http.access_log,
                  "http: the access log in the common log format: a file, or - for standard output (off with "
                  "--quiet)")
      ->check(checks::non_empty());
  cmd->add_flag("--list-models", o->list_models, "print the models this build and kernel can run, and exit");
  cmd->add_flag("--list-services", o->list_services, "print the services, their ports and built transports, and exit");
  cmd->add_option("--udp-rate", o->udp_rate,
                  "UDP replies a second to one source address (an IPv6 /64), in bursts of a quarter of that; "
                  "a source that asks faster is muted for 1 s; 0: no limit (for benchmarks)")
      ->transform(checks::between(0, 1e9))->capture_default_str();
  cmd->footer(
      "Examples:\n"
      "  sockit serve                               every service, TCP and UDP, default ports, on loopback\n"
      "  sockit serve fib:9000 --model fork --tcp\n"
      "  sockit serve echo:0 --listen 127.0.0.1     port 0: the startup line says which port\n"
      "  sockit serve echo daytime --listen ::      every interface, IPv6 and IPv4: reachable from the network\n"
      "  sockit serve http:8080 --root ./site --access-log -   a directory over HTTP/1.1\n"
      "UDP services never answer a datagram from port 0, from their own or another of their ports, from\n"
      "ports below 1024 or other known reflectors' (echo, chargen, DNS, SSDP, memcached...), or from a\n"
      "broadcast or multicast address, and limit replies per source (--udp-rate): no reflection loops.");
  return {cmd, [o]() -> int {
            try {
              return run(*o);
            } catch (const UsageError& e) {
              return usage(e.what());
            } catch (const serve::ConfigError& e) {
              return usage(e.what());
            }
          }};
}

}  // namespace sockit::cli
