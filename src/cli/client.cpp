// sockit client: a client for every service of `sockit serve` (DESIGN.md's service table).
// Requests come from ARGS (one per argument) or from stdin lines; replies go to stdout. UDP
// waits for each reply with the notes' exponential back-off: 0.1 s, doubling, giving up once
// the next wait would pass --timeout (2 s by default).
#include <fmt/core.h>
#include <signal.h>

#include <memory>
#include <string>
#include <vector>

#include "cli/client.hpp"
#include "cli/command.hpp"
#include "cli/option_checks.hpp"
#include "serve/services/services.hpp"

namespace sockit::cli {
namespace {

using client::ClientOptions;

std::chrono::milliseconds to_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<long long>(seconds * 1000 + 0.5));
}

int run(const ClientOptions& o) {
  const auto* info = serve::services::find(o.service);
  if (!info) throw UsageError(fmt::format("unknown service '{}'", o.service));
  const bool udp = o.udp || !info->tcp;
  if (udp && !info->udp) throw UsageError(fmt::format("{} has no UDP form", o.service));
  const unsigned port = o.port ? o.port : o.system_ports ? info->system_port : info->port;
  const double timeout = o.timeout > 0 ? o.timeout : udp ? 2.0 : 5.0;
  // A reader that left (`| head`) is told by EPIPE from write(), not by a fatal signal.
  ::signal(SIGPIPE, SIG_IGN);
  const auto service_port = std::to_string(port);
  return udp ? client::run_udp(o, service_port, to_ms(timeout)) : client::run_tcp(o, service_port, to_ms(timeout));
}

}  // namespace

Command add_client(CLI::App& app) {
  auto o = std::make_shared<ClientOptions>();
  auto* cmd = app.add_subcommand("client", "Talk to a sockit service: requests from ARGS or stdin, replies to stdout");
  std::vector<std::string> names;
  for (const auto& info : serve::services::catalog()) names.emplace_back(info.name);
  cmd->add_option("service", o->service, "echo discard chargen daytime time fib upper length incr")
      ->required()
      ->check(CLI::IsMember(names));
  cmd->add_option("args", o->args, "requests, one per argument (default: stdin lines)");
  cmd->add_option("--host", o->host, "server host name or address")->capture_default_str()->check(checks::host());
  cmd->add_option("--port", o->port, "server port (default: the service's)")->transform(checks::port());
  cmd->add_flag("--udp", o->udp, "use UDP (length is UDP only anyway)");
  cmd->add_option("--timeout", o->timeout, "seconds: TCP connect and reply wait (default 5); UDP gives up "
                                           "when the back-off would wait longer (default 2)")
      ->transform(checks::positive_seconds());
  cmd->add_option("--bytes", o->bytes, "chargen: bytes to read before closing")
      ->capture_default_str()
      ->transform(checks::whole<std::size_t>(1));
  cmd->add_flag("--system-ports", o->system_ports, "default ports 7, 9, 13, 19, 37 instead of 10007 ...");
  cmd->footer(
      "Every line gets one answer line: fib answers an empty line with \"ERR empty request\".\n\n"
      "Examples:\n"
      "  sockit client fib 10 20 30\n"
      "  echo hello | sockit client upper\n"
      "  sockit client time\n"
      "  sockit client incr --udp 41 32767\n"
      "  sockit client length --port 1060 'some text'");
  return {cmd, [o]() -> int {
            try {
              return run(*o);
            } catch (const UsageError& e) {
              std::fflush(stdout);
              fmt::print(stderr, "sockit client: {}\n", e.what());
              return 2;
            } catch (const client::OutputClosed&) {
              return 0;
            }
          }};
}

}  // namespace sockit::cli
