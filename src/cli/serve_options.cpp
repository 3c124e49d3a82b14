// `sockit serve`'s flags as settings (serve/settings.hpp): each flag given sets the config key of
// the same meaning, so that flags and a config file are one thing, flags last.
#include "cli/serve_options.hpp"

#include <fmt/core.h>

#include <charconv>
#include <chrono>
#include <cmath>

namespace sockit::cli {
namespace {

serve::Spot flag(std::string_view name) { return {"command line", std::string(name)}; }

std::chrono::milliseconds milliseconds_of(double seconds) {
  return std::chrono::milliseconds(std::llround(seconds * 1000));
}

// SERVICE[:PORT]; the server checks the name.
serve::NamedService parse_service(const std::string& text) {
  const auto colon = text.find(':');
  serve::NamedService service{text.substr(0, colon), flag(text), {}};
  if (colon == std::string::npos) return service;
  const std::string digits = text.substr(colon + 1);
  unsigned value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || value > 65535)
    throw UsageError(fmt::format("bad port in '{}': a number from 0 to 65535", text));
  service.settings.port.set({static_cast<std::uint16_t>(value)}, flag(text));
  return service;
}

std::vector<serve::Cidr> cidrs(const std::vector<std::string>& texts, std::string_view name) {
  std::vector<serve::Cidr> all;
  for (const auto& text : texts) {
    std::string problem;
    auto cidr = serve::Cidr::parse(text, problem);
    if (!cidr) throw UsageError(fmt::format("{} {}: bad CIDR: {}", name, text, problem));
    all.push_back(*cidr);
  }
  return all;
}

}  // namespace

serve::Settings command_line_settings(const ServeOptions& o, const CLI::App& cmd) {
  const auto given = [&](std::string_view name) { return cmd.count(std::string(name)) > 0; };
  serve::Settings settings;
  for (const auto& text : o.services) settings.services.push_back(parse_service(text));

  auto& server = settings.server;
  if (given("--max-conns")) server.max_conns.set(o.max_conns, flag("--max-conns"));
  if (given("--grace")) server.grace.set(milliseconds_of(o.grace), flag("--grace"));
  if (o.system_ports) server.system_ports.set(true, flag("--system-ports"));
  if (o.quiet) server.quiet.set(true, flag("--quiet"));
  if (o.json_log) server.json_log.set(true, flag("--json-log"));
  if (given("--udp-rate")) server.udp_rate.set(o.udp_rate, flag("--udp-rate"));

  auto& every = settings.defaults;
  if (o.tcp_only) every.transport.set({true, false}, flag("--tcp"));
  if (o.udp_only) every.transport.set({false, true}, flag("--udp"));
  if (!o.listen.empty()) {
    std::string problem;
    auto address = serve::parse_listen_address(o.listen, problem);
    if (!address) throw UsageError("--listen " + problem);
    every.listen.set({*address}, flag("--listen"));
  }
  if (!o.model.empty()) every.model.set(o.model, flag("--model"));
  if (given("--threads")) every.threads.set(o.threads, flag("--threads"));
  if (o.no_offload) every.offload.set(false, flag("--no-offload"));
  if (o.idle_timeout) every.idle_timeout.set(milliseconds_of(*o.idle_timeout), flag("--idle-timeout"));
  if (o.request_timeout) every.request_timeout.set(milliseconds_of(*o.request_timeout), flag("--request-timeout"));
  if (given("--max-line")) every.max_line.set(o.max_line, flag("--max-line"));
  if (given("--per-source")) every.per_source.set(o.per_source, flag("--per-source"));
  if (!o.rate.empty()) {
    std::string problem;
    auto rate = serve::parse_rate(o.rate, problem);
    if (!rate) throw UsageError("--rate " + problem);
    every.rate.set(*rate, flag("--rate"));
  }
  if (given("--rate-cooldown")) every.rate_cooldown.set(milliseconds_of(o.rate_cooldown), flag("--rate-cooldown"));
  if (!o.allow.empty()) every.allow.set(cidrs(o.allow, "--allow"), flag("--allow"));
  if (!o.deny.empty()) every.deny.set(cidrs(o.deny, "--deny"), flag("--deny"));
  if (given("--format")) every.format.set(o.format, flag("--format"));
  if (given("--algorithm")) every.algorithm.set(o.algorithm, flag("--algorithm"));
  if (!o.http.root.empty()) every.root.set(o.http.root, flag("--root"));
  if (o.http.autoindex) every.autoindex.set(true, flag("--autoindex"));
  if (given("--keepalive-requests"))
    every.keepalive_requests.set(o.http.keepalive_requests, flag("--keepalive-requests"));
  if (o.keepalive_timeout) every.keepalive_timeout.set(milliseconds_of(*o.keepalive_timeout), flag("--keepalive-timeout"));
  if (o.header_timeout) every.header_timeout.set(milliseconds_of(*o.header_timeout), flag("--header-timeout"));
  if (!o.http.access_log.empty()) every.access_log.set(o.http.access_log, flag("--access-log"));
  return settings;
}

}  // namespace sockit::cli
