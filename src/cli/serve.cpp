// sockit serve: every service of the catalog under any model, TCP and UDP (DESIGN.md "Command
// line"). Parses flags, binds every listener first (so a port in use fails before anything
// runs), prints one startup line per listener, then runs each listener on its own thread(s)
// until SIGINT/SIGTERM, which this file turns into StopSignal::request().
#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli/command.hpp"
#include "cli/stop_on_signals.hpp"
#include "net/address.hpp"
#include "net/socket.hpp"
#include "serve/log.hpp"
#include "serve/model.hpp"
#include "serve/models/pool.hpp"
#include "serve/services/services.hpp"
#include "serve/stop_signal.hpp"
#include "serve/udp.hpp"

namespace sockit::cli {
namespace {

using serve::services::ServiceInfo;

struct ServeOptions {
  std::vector<std::string> services;
  std::string model;
  std::string listen;
  bool udp_only = false;
  bool tcp_only = false;
  unsigned threads = 0;
  bool no_offload = false;
  std::size_t max_conns = 10000;
  double idle_timeout = 300;
  std::size_t max_line = 8192;
  bool quiet = false;
  bool json_log = false;
  bool system_ports = false;
  std::string format = "inetd";
  std::string algorithm = "iterative";
  double grace = 5;
  bool list_models = false;
  bool list_services = false;
};

/// Thrown for a usage error: exit 2 with this message.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Best first: what `sockit serve` uses when epoll is not in this build.
constexpr std::string_view kModelPreference[] = {"epoll", "uring", "poll", "select", "pool", "thread", "fork", "iterative"};

std::string joined(const std::vector<std::string>& words) {
  std::string text;
  for (const auto& w : words) text += (text.empty() ? "" : " ") + w;
  return text;
}

std::string thread_count(unsigned n) { return n == 1 ? "1 thread" : fmt::format("{} threads", n); }

// The model's concurrency as the startup line shows it.
std::string concurrency(std::string_view model, unsigned threads) {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  if (model == "fork") return "process per connection";
  if (model == "thread") return "thread per connection";
  if (model == "iterative") return thread_count(1);
  if (model == "pool") return thread_count(threads ? threads : serve::models::pool_default_threads());
  if (model == "epoll" || model == "uring") return thread_count(threads ? threads : cores);
  return thread_count(threads ? threads : 1);
}

std::chrono::milliseconds milliseconds_of(double seconds) {
  return std::chrono::milliseconds(static_cast<long long>(seconds * 1000 + 0.5));
}

struct Request {
  const ServiceInfo* info;
  std::optional<std::uint16_t> port;  ///< from NAME:PORT
  bool named;                         ///< given on the command line (not "every service")
};

std::vector<Request> parse_requests(const ServeOptions& o) {
  std::vector<Request> requests;
  if (o.services.empty()) {
    for (const auto& info : serve::services::catalog()) requests.push_back({&info, std::nullopt, false});
    return requests;
  }
  for (const auto& text : o.services) {
    const auto colon = text.find(':');
    const std::string name = text.substr(0, colon);
    const auto* info = serve::services::find(name);
    if (!info) {
      std::vector<std::string> names;
      for (const auto& s : serve::services::catalog()) names.emplace_back(s.name);
      throw UsageError(fmt::format("unknown service '{}' (services: {})", name, joined(names)));
    }
    std::optional<std::uint16_t> port;
    if (colon != std::string::npos) {
      const std::string digits = text.substr(colon + 1);
      unsigned value = 0;
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
      if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || value > 65535)
        throw UsageError(fmt::format("bad port in '{}': a number from 0 to 65535", text));
      port = static_cast<std::uint16_t>(value);
    }
    requests.push_back({info, port, true});
  }
  return requests;
}

// The address every listener binds, port 0 (each listener sets its own).
net::Address base_address(const std::string& listen) {
  if (listen.empty()) {
    // All interfaces: the IPv6 wildcard, dual-stack, unless this host has no IPv6.
    if (net::Socket::create(AF_INET6, SOCK_STREAM)) return net::Address::any(AF_INET6, 0);
    return net::Address::any(AF_INET, 0);
  }
  std::string text = listen;
  if (text == "localhost") text = "127.0.0.1";
  for (const auto& candidate : {text + ":0", "[" + text + "]:0"}) {
    auto address = net::Address::parse(candidate);
    if (address && address->is_ip()) return *address;
  }
  throw UsageError(fmt::format("--listen {}: not a numeric IPv4 or IPv6 address", listen));
}

std::string choose_model(const ServeOptions& o, serve::Log& log) {
  const auto available = serve::available_models();
  auto have = [&](std::string_view m) { return std::find(available.begin(), available.end(), m) != available.end(); };
  if (!o.model.empty()) {
    if (!have(o.model))
      throw UsageError(fmt::format("model '{}' is unknown or not available in this build (available: {})", o.model,
                                   joined(available)));
    return o.model;
  }
  for (auto m : kModelPreference) {
    if (have(m)) {
      if (m != kModelPreference[0]) log.notice(fmt::format("model epoll is not in this build; using {}", m));
      return std::string(m);
    }
  }
  throw std::runtime_error("no server model is available in this build");
}

struct TcpListener {
  std::string service_name;
  std::unique_ptr<serve::Service> service;
  net::Socket socket;
};

struct UdpListener {
  std::string service_name;
  std::unique_ptr<serve::DatagramService> service;
  std::vector<net::Socket> sockets;
};

int list_models() {
  for (const auto& m : serve::available_models()) fmt::print("{}\n", m);
  return 0;
}

int list_services() {
  for (const auto& info : serve::services::catalog()) {
    std::string transports;
    if (info.tcp && serve::services::make_tcp(info.name, {})) transports += " tcp";
    if (info.udp && serve::services::make_udp(info.name, {})) transports += " udp";
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
  serve::services::ServiceOptions service_options{o.format, o.algorithm};
  const auto requests = parse_requests(o);
  const auto base = base_address(o.listen);
  const bool want_tcp = !o.udp_only;
  const bool want_udp = !o.tcp_only;

  std::vector<TcpListener> tcp;
  std::vector<UdpListener> udp;
  std::vector<std::string> not_built;
  std::string model_name;
  std::unique_ptr<serve::Model> model;  // one for every TCP listener: event models share their loops
  for (const auto& request : requests) {
    const auto& info = *request.info;
    const std::string name(info.name);
    const bool tcp_here = want_tcp && info.tcp;
    const bool udp_here = want_udp && info.udp;
    if (request.named && !tcp_here && !udp_here)
      throw UsageError(fmt::format("{} has no {} form", name, info.tcp ? "UDP" : "TCP"));
    auto tcp_service = tcp_here ? serve::services::make_tcp(name, service_options) : nullptr;
    auto udp_service = udp_here ? serve::services::make_udp(name, service_options) : nullptr;
    if (tcp_here && !tcp_service) not_built.push_back(name + "/tcp");
    if (udp_here && !udp_service) not_built.push_back(name + "/udp");
    if (request.named && !tcp_service && !udp_service)
      throw UsageError(fmt::format("service {} is not built into this sockit", name));

    net::Address address = base;
    address.set_port(request.port.value_or(o.system_ports ? info.system_port : info.port));
    std::optional<std::uint16_t> tcp_port;
    if (tcp_service) {
      if (!model) {
        model_name = choose_model(o, log);
        model = serve::make_model(model_name, {.threads = o.threads, .offload = !o.no_offload, .log = &log});
      }
      auto socket = net::listen_on(address).value();
      tcp_port = socket.local_address().value().port();
      tcp.push_back({name, std::move(tcp_service), std::move(socket)});
    }
    if (udp_service) {
      const unsigned count = std::max(1u, o.threads);
      auto sockets = [&] {
        // Port 0 for both transports: give UDP the port TCP got, if it is free.
        if (address.port() == 0 && tcp_port) {
          net::Address same = address;
          same.set_port(*tcp_port);
          if (auto group = serve::bind_udp_group(same, count)) return std::move(*group);
        }
        return serve::bind_udp_group(address, count).value();
      }();
      udp.push_back({name, std::move(udp_service), std::move(sockets)});
    }
  }
  if (tcp.empty() && udp.empty()) throw UsageError("nothing to serve: no service is built for the transports asked");
  if (!not_built.empty() && requests.front().named == false)
    log.notice(fmt::format("not built yet, skipped: {}", joined(not_built)));
  else
    for (const auto& what : not_built) log.notice(fmt::format("{} is not built into this sockit; skipped", what));

  for (const auto& l : tcp)
    log.notice(fmt::format("listening on {} ({}/tcp, model {}, {})", l.socket.local_address().value().to_string(),
                           l.service_name, model_name, concurrency(model_name, o.threads)));
  for (const auto& l : udp)
    log.notice(fmt::format("listening on {} ({}/udp, {})", l.sockets.front().local_address().value().to_string(),
                           l.service_name, thread_count(static_cast<unsigned>(l.sockets.size()))));

  serve::Limits limits;
  limits.max_conns = o.max_conns;
  // --idle-timeout 0: never (a year is never enough for a test, and still fits a Deadline).
  limits.idle_timeout = o.idle_timeout > 0 ? milliseconds_of(o.idle_timeout) : std::chrono::hours(24 * 365);
  limits.max_line = o.max_line;
  limits.grace_period = milliseconds_of(o.grace);

  std::fflush(stdout);  // forked children must not inherit unwritten output

  std::vector<serve::Endpoint> endpoints;
  for (auto& l : tcp) endpoints.push_back({l.socket, *l.service});
  std::vector<std::thread> threads;
  if (model)
    threads.emplace_back([&] {
      try {
        model->run_all(endpoints, limits, stop);
      } catch (const std::exception& e) {
        log.notice(fmt::format("TCP stopped: {}", e.what()));
      }
    });
  for (auto& l : udp)
    threads.emplace_back([&] {
      try {
        serve::serve_udp(l.sockets, *l.service, limits, stop, &log);
      } catch (const std::exception& e) {
        log.notice(fmt::format("{}/udp stopped: {}", l.service_name, e.what()));
      }
    });
  for (auto& t : threads) t.join();
  log.notice("stopped");
  return 0;
}

}  // namespace

Command add_serve(CLI::App& app) {
  auto o = std::make_shared<ServeOptions>();
  auto* cmd = app.add_subcommand("serve", "Serve echo, discard, chargen, daytime, time, fib, upper, length, incr "
                                          "under any server design");
  cmd->add_option("services", o->services, "SERVICE[:PORT] ... (default: every service on its default port); "
                                            "port 0 picks a free port");
  cmd->add_option("--model", o->model, "server design for TCP: iterative fork thread pool select poll epoll uring "
                                       "(default epoll)");
  cmd->add_option("--listen", o->listen, "address every service binds (default: all interfaces, IPv6 dual-stack)");
  auto* udp = cmd->add_flag("--udp", o->udp_only, "UDP only");
  auto* tcp = cmd->add_flag("--tcp", o->tcp_only, "TCP only");
  udp->excludes(tcp);
  cmd->add_option("--threads", o->threads, "threads of the model (pool workers, reactors); UDP sockets per service")
      ->check(CLI::Range(1u, 1024u));
  cmd->add_flag("--no-offload", o->no_offload,
                "event models run CPU-bound requests (fib --algorithm recursive) on their loop instead of on "
                "worker threads: every other client waits (to measure what offload buys)");
  cmd->add_option("--max-conns", o->max_conns, "connections served at once; more are accepted and closed")
      ->capture_default_str();
  cmd->add_option("--idle-timeout", o->idle_timeout, "seconds a client may stay silent (0: forever)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--max-line", o->max_line, "longest request line of text protocols, in bytes")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 30))->capture_default_str();
  cmd->add_option("--grace", o->grace, "seconds in-flight work may take after SIGINT/SIGTERM")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_flag("--quiet", o->quiet, "no per-connection log lines");
  cmd->add_flag("--json-log", o->json_log, "log JSON lines");
  cmd->add_flag("--system-ports", o->system_ports, "default ports 7, 9, 13, 19, 37 instead of 10007 ...");
  cmd->add_option("--format", o->format, "daytime format: inetd (ctime-like) or iso (ISO 8601)")
      ->check(CLI::IsMember({"inetd", "iso"}))->capture_default_str();
  cmd->add_option("--algorithm", o->algorithm, "fib algorithm: iterative (exact) or recursive (the notes', n <= 40)")
      ->check(CLI::IsMember({"iterative", "recursive"}))->capture_default_str();
  cmd->add_flag("--list-models", o->list_models, "print the models this build and kernel can run, and exit");
  cmd->add_flag("--list-services", o->list_services, "print the services, their ports and built transports, and exit");
  cmd->footer(
      "Examples:\n"
      "  sockit serve                               every service, TCP and UDP, default ports\n"
      "  sockit serve fib:9000 --model fork --tcp\n"
      "  sockit serve echo:0 --listen 127.0.0.1     port 0: the startup line says which port");
  return {cmd, [o]() -> int {
            try {
              return run(*o);
            } catch (const UsageError& e) {
              std::fflush(stdout);
              fmt::print(stderr, "sockit serve: {}\n", e.what());
              return 2;
            }
          }};
}

}  // namespace sockit::cli
