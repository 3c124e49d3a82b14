// sockit serve (DESIGN.md "Command line"): flags and a config file into a serve::ServerConfig,
// the startup table from what the Server bound, SIGINT/SIGTERM into StopSignal::request(), and
// SIGHUP into a reload of the config file.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/admin_flags.hpp"
#include "cli/command.hpp"
#include "cli/option_checks.hpp"
#include "cli/serve_options.hpp"
#include "cli/stop_on_signals.hpp"
#include "net/text.hpp"
#include "serve/admin/serve_status.hpp"
#include "serve/config_file.hpp"
#include "serve/inherited_sockets.hpp"
#include "serve/log.hpp"
#include "serve/metrics.hpp"
#include "serve/model.hpp"
#include "serve/notify.hpp"
#include "serve/server.hpp"
#include "serve/services/services.hpp"
#include "serve/settings.hpp"
#include "serve/stop_signal.hpp"
#include "serve/udp_guard.hpp"

namespace sockit::cli {
namespace {

std::string thread_count(unsigned n) { return n == 1 ? "1 thread" : fmt::format("{} threads", n); }

std::string concurrency(const std::string& model, unsigned threads) {
  if (threads > 0) return thread_count(threads);
  return model == "fork" ? "process per connection" : "thread per connection";
}

int usage(const std::string& message) {
  std::fflush(stdout);
  fmt::print(stderr, "sockit serve: {}\n", message);
  return 2;
}

// Every mistake of a config file or of the flags, one line each: exit 2.
int bad_settings(const serve::SettingErrors& e) {
  std::fflush(stdout);
  for (const auto& error : e.errors) fmt::print(stderr, "sockit serve: {}\n", error.text());
  return 2;
}

std::string listening_line(const serve::Listening& l) {
  if (l.transport == serve::Transport::tcp)
    return fmt::format("listening on {} ({}/tcp, model {}, {})", l.address.to_string(), l.service, l.model,
                       concurrency(l.model, l.threads));
  return fmt::format("listening on {} ({}/udp, {})", l.address.to_string(), l.service, thread_count(l.threads));
}

void print_startup(const serve::Server& server, bool every_service, serve::Log& log) {
  if (server.model_is_fallback())
    log.notice(fmt::format("model {} is not in this build; using {}", serve::kPreferredModel, serve::default_model()));
  const auto skipped = server.skipped();
  if (!skipped.empty() && every_service)
    log.notice(fmt::format("not built yet, skipped: {}", fmt::join(skipped, " ")));
  else
    for (const auto& what : skipped) log.notice(fmt::format("{} is not built into this sockit; skipped", what));
  for (const auto& l : server.listening()) log.notice(listening_line(l));
}

// systemd's STATUS= line: what is served, in one line.
std::string serving_status(const serve::Server& server) {
  std::vector<std::string> services;
  std::vector<std::string> models;
  const auto listening = server.listening();
  for (const auto& l : listening) {
    if (std::find(services.begin(), services.end(), l.service) == services.end()) services.push_back(l.service);
    if (!l.model.empty() && std::find(models.begin(), models.end(), l.model) == models.end()) models.push_back(l.model);
  }
  return fmt::format("serving {} on {}{}", fmt::join(services, " "),
                     net::counted(listening.size(), "listener", "listeners"),
                     models.empty() ? "" : fmt::format(", TCP model {}", fmt::join(models, " ")));
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

// The config file's settings (none: no file). Throws SettingErrors.
serve::Settings file_settings(const std::string& config_file) {
  return config_file.empty() ? serve::Settings{} : serve::read_config(config_file);
}

// The config file (none: no settings) under the flags. Throws SettingErrors.
serve::Resolved settings_of(const std::string& config_file, const serve::Settings& command_line) {
  return serve::resolve(file_settings(config_file), command_line);
}

int check_config(const std::string& path, const serve::Settings& command_line) {
  const auto resolved = settings_of(path, command_line);
  std::vector<std::string> names;
  for (const auto& s : resolved.config.services) names.push_back(s.name);
  fmt::print("{}: ok: {}\n", path, fmt::join(names, " "));
  return 0;
}

std::string names(const std::vector<std::string>& list) { return fmt::format("{}", fmt::join(list, " ")); }

// What a reload reads again, and what it cannot change (the log is made once).
struct ReloadSource {
  std::string path;
  serve::Settings command_line;
  serve::InheritedSockets inherited;  // systemd's sockets: the same at every reload
  serve::Metrics* metrics;            // --admin's counters, made once: a reload counts on in them
  bool quiet;
  bool json_log;
};

// The config file read again, given to the Server, and what changed logged.
void apply_config(serve::Server& server, const ReloadSource& source, serve::Log& log) {
  if (source.path.empty()) {
    log.notice("SIGHUP: no --config file to read again; nothing changed");
    return;
  }
  try {
    auto resolved = settings_of(source.path, source.command_line);
    serve::use_inherited_sockets(source.inherited, resolved.config);
    resolved.config.log = &log;
    resolved.config.metrics = source.metrics;
    auto report = server.reload(resolved.config);
    if (resolved.quiet != source.quiet) report.restart_only.push_back("quiet");
    if (resolved.json_log != source.json_log) report.restart_only.push_back("json_log");
    std::vector<std::string> parts;
    if (!report.started.empty()) parts.push_back("started " + names(report.started));
    if (!report.stopped.empty()) parts.push_back("stopped " + names(report.stopped));
    if (!report.changed.empty()) parts.push_back("changed " + names(report.changed));
    log.notice(fmt::format("reloaded {}: {}", source.path, parts.empty() ? "nothing changed" : names(parts)));
    for (const auto& l : report.new_listeners) log.notice(listening_line(l));
    if (!report.restart_only.empty())
      log.notice(fmt::format("reload: {} take effect only after a restart", names(report.restart_only)));
  } catch (const std::exception& e) {
    log.notice(fmt::format("reload of {} rejected; the running configuration stays: {}", source.path, e.what()));
  }
}

// SIGHUP: the config file again, under the same flags. The one place a reload happens, between
// systemd's RELOADING=1 and READY=1. A file with a mistake, or a port that cannot be bound, is
// one log line; the running configuration stays.
void reload_config(serve::Server& server, const ReloadSource& source, serve::Log& log) {
  serve::log_notify_failure(serve::notify_reloading(), log);
  apply_config(server, source, log);
  serve::log_notify_failure(serve::notify_ready(serving_status(server)), log);
}

int run(const ServeOptions& o, const CLI::App& cmd) {
  if (o.list_models) return list_models();
  if (o.list_services) return list_services();
  const auto command_line = command_line_settings(o, cmd);
  if (auto error = admin_flags_error(o.admin)) return usage(error->c_str());
  if (!o.check_config.empty()) return check_config(o.check_config, command_line);
  // Before any thread starts: taking the sockets unsets LISTEN_* (setenv is not thread-safe).
  const auto inherited = serve::take_inherited_sockets();
  const auto file = file_settings(o.config);
  auto resolved = serve::resolve(file, command_line);
  serve::use_inherited_sockets(inherited, resolved.config);
  // Counters only with --admin, made before the server: a forked child counts into them.
  const auto metrics = o.admin.wanted() ? std::make_unique<serve::Metrics>() : nullptr;
  resolved.config.metrics = metrics.get();

  serve::StopSignal stop;
  serve::Log log(stdout, resolved.quiet, resolved.json_log ? serve::Log::Format::json : serve::Log::Format::text);
  resolved.config.log = &log;
  serve::Server server(resolved.config);
  // Handlers before the startup lines: a signal that comes as soon as they are out must stop
  // (or reload) cleanly.
  const ReloadSource source{o.config, command_line, inherited, metrics.get(), resolved.quiet, resolved.json_log};
  // Without a file too: systemd's ExecReload= (kill -HUP) must never kill a server.
  const auto on_hangup = [&] { reload_config(server, source, log); };
  StopOnSignals signals(
      stop, [&log] { serve::log_notify_failure(serve::notify_stopping("stopping: finishing connections"), log); },
      on_hangup);
  const auto& services = resolved.config.services;
  const bool none_named = std::none_of(services.begin(), services.end(), [](const auto& s) { return s.required; });
  print_startup(server, none_named && inherited.empty(), log);
  std::optional<serve::admin::ServeStatus> status;
  if (metrics) status.emplace(server, *metrics);
  // The page is served by the HTTP code with the http service's timeouts (--header-timeout...),
  // as the file and the flags give them when the server started.
  const auto admin = status ? start_admin(o.admin, *status, log, serve::limits_of("http", file, command_line)) : nullptr;
  std::fflush(stdout);  // forked children must not inherit unwritten output
  // Every listener is bound (TCP ones listening): from here the kernel queues every connection
  // and datagram for the models and the UDP threads that start now.
  serve::log_notify_failure(serve::notify_ready(serving_status(server)), log);
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
  cmd->add_option("--max-conns", o->max_conns, "connections the whole server serves at once; more are refused with a reason (ERR refused: ... for "
                                      "the text services)")
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
  cmd->add_option("--per-source", o->per_source,
                  "connections one address (an IPv6 /64) may have open to a service; more are refused with a "
                  "reason (0: no limit)")
      ->transform(checks::whole(std::size_t{0}, serve::kMaxConnsSetting))->capture_default_str();
  cmd->add_option("--rate", o->rate,
                  "new connections a second one address may open to a service (N, N/s, N/min or N/h), after a "
                  "burst of a second's worth; beyond it the address is refused for --rate-cooldown")
      ->check(checks::non_empty());
  cmd->add_option("--rate-cooldown", o->rate_cooldown, "seconds an address over --rate is refused")
      ->transform(checks::positive_seconds())->capture_default_str();
  cmd->add_option("--allow", o->allow,
                  "only addresses in this network may connect (CIDR: 10.0.0.0/8, 2001:db8::/32, 127.0.0.2); "
                  "repeat for more; the most specific of --allow and --deny decides")
      ->check(checks::non_empty());
  cmd->add_option("--deny", o->deny, "addresses in this network are refused (CIDR); repeat for more")
      ->check(checks::non_empty());
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
  auto* config = cmd->add_option("--config", o->config,
                                  "a TOML config file (docs/config.md): services, models, limits; flags given "
                                  "override it; SIGHUP reads it again")
                      ->check(checks::non_empty());
  cmd->add_option("--check-config", o->check_config,
                  "check a config file (with the flags given) and exit: 0 if it can be served, 2 with every "
                  "mistake as FILE:LINE:COLUMN: KEY: what")
      ->check(checks::non_empty())
      ->excludes(config);
  cmd->add_flag("--list-models", o->list_models, "print the models this build and kernel can run, and exit");
  cmd->add_flag("--list-services", o->list_services, "print the services, their ports and built transports, and exit");
  add_admin_flags(*cmd, o->admin);
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
      "  sockit serve --config sockit.toml   services and limits from a file (packaging/); kill -HUP reloads it\n"
      "  sockit serve fib --per-source 4 --rate 10/s --deny 10.0.0.0/8   limits with reasons (ERR refused: ...)\n"
      "  sockit serve echo fib --admin 127.0.0.1:9100   and a status page, /metrics, /status.json\n"
      "UDP services never answer a datagram from port 0, from their own or another of their ports, from\n"
      "ports below 1024 or other known reflectors' (echo, chargen, DNS, SSDP, memcached...), or from a\n"
      "broadcast or multicast address, and limit replies per source (--udp-rate): no reflection loops.\n\n"
      "Under systemd (socket activation), the sockets passed in LISTEN_FDS are served, each by the service\n"
      "its name (FileDescriptorName=) or else its port says, and such a service binds none of its own;\n"
      "READY=1, RELOADING=1 (SIGHUP) and STOPPING=1 go to NOTIFY_SOCKET (Type=notify). More in\n"
      "docs/install.md (/usr/share/doc/sockit/install.md when installed).");
  return {cmd, [o, cmd]() -> int {
            try {
              return run(*o, *cmd);
            } catch (const UsageError& e) {
              return usage(e.what());
            } catch (const serve::SettingErrors& e) {
              return bad_settings(e);
            } catch (const serve::ConfigError& e) {
              return usage(e.what());
            }
          }};
}

}  // namespace sockit::cli
