#include "serve/settings.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>

#include "serve/services/services.hpp"

namespace sockit::serve {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::size_t kMostErrors = 20;

// 0 is "never" in a setting; a year is never enough for a test, and still fits a Deadline.
milliseconds idle_limit(milliseconds given) { return given.count() > 0 ? given : std::chrono::hours(24 * 365); }

// Where each key of one resolved service came from, for the problems check() finds.
struct Spots {
  Spot service;  // its table or argument (or nothing: every service, none named)
  std::map<std::string, Spot, std::less<>> keys;

  const Spot& of(std::string_view key) const {
    const auto found = keys.find(key);
    return found != keys.end() ? found->second : service;
  }
};

// Applies each setting `from` has to `to`, noting where it came from; a service's own settings
// (daytime's format, fib's algorithm, http's) only to that service.
void apply(const ServiceSettings& from, ServiceConfig& to, Spots& spots) {
  const auto take = [&](const auto& setting, std::string_view key, auto&& assign) {
    if (!setting.value) return;
    assign(*setting.value);
    spots.keys[std::string(key)] = setting.spot;
  };
  const bool daytime = to.name == "daytime";
  const bool fib = to.name == "fib";
  const bool http = to.name == "http";
  take(from.transport, "transport", [&](const Transports& t) {
    to.tcp = t.tcp;
    to.udp = t.udp;
  });
  take(from.port, "port", [&](const auto& v) { to.ports = v; });
  take(from.listen, "listen", [&](const auto& v) { to.listen = v; });
  take(from.model, "model", [&](const auto& v) { to.model = v; });
  take(from.threads, "threads", [&](auto v) { to.threads = v; });
  take(from.offload, "offload", [&](auto v) { to.offload = v; });
  take(from.max_conns, "max_conns", [&](auto v) { to.admission.max_conns = v; });
  take(from.idle_timeout, "idle_timeout", [&](auto v) { to.limits.idle_timeout = idle_limit(v); });
  take(from.request_timeout, "request_timeout", [&](auto v) { to.limits.request_timeout = v; });
  take(from.max_line, "max_line", [&](auto v) { to.limits.max_line = v; });
  take(from.per_source, "per_source", [&](auto v) { to.admission.per_source = v; });
  take(from.rate, "rate", [&](auto v) { to.admission.rate = v; });
  take(from.rate_cooldown, "rate_cooldown", [&](auto v) { to.admission.rate_cooldown = v; });
  take(from.allow, "allow", [&](const auto& v) { to.admission.access.allow = v; });
  take(from.deny, "deny", [&](const auto& v) { to.admission.access.deny = v; });
  if (daytime) take(from.format, "format", [&](const auto& v) { to.options.daytime_format = v; });
  if (fib) take(from.algorithm, "algorithm", [&](const auto& v) { to.options.fib_algorithm = v; });
  if (!http) return;
  auto& h = to.options.http;
  take(from.root, "root", [&](const auto& v) { h.root = v; });
  take(from.autoindex, "autoindex", [&](auto v) { h.autoindex = v; });
  take(from.keepalive_requests, "keepalive_requests", [&](auto v) { h.keepalive_requests = v; });
  // After idle_timeout and request_timeout of the same source: http's own names win.
  take(from.keepalive_timeout, "idle_timeout", [&](auto v) { to.limits.idle_timeout = idle_limit(v); });
  take(from.header_timeout, "request_timeout", [&](auto v) { to.limits.request_timeout = v; });
  take(from.access_log, "access_log", [&](const auto& v) { h.access_log = v; });
}

// What a service is before any setting: the catalog's, with http's own timeouts (nginx's
// keepalive_timeout and client_header_timeout).
ServiceConfig built_in(const std::string& name, bool required) {
  auto config = service_config(name);
  config.required = required;
  config.limits.idle_timeout = name == "http" ? seconds(75) : seconds(300);
  config.limits.request_timeout = name == "http" ? seconds(60) : seconds(30);
  return config;
}

const NamedService* named(const std::vector<NamedService>& list, std::string_view name) {
  const auto found = std::find_if(list.begin(), list.end(), [&](const auto& s) { return s.name == name; });
  return found == list.end() ? nullptr : &*found;
}

// The services served, in order, and whether each was named: the command line's if it names
// any (one entry per name, its ports gathered), else the file's, else every one of the catalog.
std::vector<std::pair<std::string, bool>> service_names(const Settings& file, const Settings& command_line) {
  std::vector<std::pair<std::string, bool>> names;
  const auto& list = !command_line.services.empty() ? command_line.services : file.services;
  for (const auto& s : list)
    if (std::none_of(names.begin(), names.end(), [&](const auto& n) { return n.first == s.name; }))
      names.emplace_back(s.name, true);
  if (names.empty())
    for (const auto& info : services::catalog()) names.emplace_back(std::string(info.name), false);
  return names;
}

// The ports of every SERVICE:PORT argument naming `name`.
Setting<std::vector<std::uint16_t>> ports_named(const std::vector<NamedService>& list, std::string_view name) {
  Setting<std::vector<std::uint16_t>> ports;
  for (const auto& s : list) {
    if (s.name != name || !s.settings.port.value) continue;
    if (!ports.value) ports.set({}, s.settings.port.spot);
    for (auto p : *s.settings.port.value) ports.value->push_back(p);
  }
  return ports;
}

void apply_server(const ServerSettings& from, Resolved& to) {
  if (from.max_conns.value) to.config.max_conns = *from.max_conns.value;
  if (from.grace.value) to.config.grace_period = *from.grace.value;
  if (from.system_ports.value) to.config.system_ports = *from.system_ports.value;
  if (from.udp_rate.value) to.config.udp_rate = *from.udp_rate.value;
  if (from.quiet.value) to.quiet = *from.quiet.value;
  if (from.json_log.value) to.json_log = *from.json_log.value;
}

// `name` with the built-in defaults, the file's [defaults], its own table and the flags over
// every service, in that order (resolve() adds the ports its arguments name).
ServiceConfig layered(const std::string& name, bool required, const Settings& file, const Settings& command_line,
                      Spots& where) {
  auto config = built_in(name, required);
  const auto* table = named(file.services, name);
  if (table) where.service = table->spot;
  apply(file.defaults, config, where);
  if (table) apply(table->settings, config, where);
  apply(command_line.defaults, config, where);
  return config;
}

}  // namespace

Limits limits_of(const std::string& service, const Settings& file, const Settings& command_line) {
  Spots where;
  return layered(service, false, file, command_line, where).limits;
}

std::string SettingError::text() const {
  std::string text = spot.where;
  if (!spot.key.empty()) text += (text.empty() ? "" : ": ") + spot.key;
  return text.empty() ? message : text + ": " + message;
}

namespace {
std::string summary(const std::vector<SettingError>& errors) {
  if (errors.empty()) return "bad settings";
  if (errors.size() == 1) return errors.front().text();
  return fmt::format("{} (and {} more)", errors.front().text(), errors.size() - 1);
}
}  // namespace

SettingErrors::SettingErrors(std::vector<SettingError> found) : ConfigError(summary(found)), errors(std::move(found)) {
  if (errors.size() > kMostErrors) errors.resize(kMostErrors);
}

Resolved resolve(const Settings& file, const Settings& command_line) {
  Resolved resolved;
  apply_server(file.server, resolved);
  apply_server(command_line.server, resolved);

  std::vector<Spots> spots;
  for (const auto& [name, required] : service_names(file, command_line)) {
    Spots where;
    auto config = layered(name, required, file, command_line, where);
    config.limits.grace_period = resolved.config.grace_period;  // the server's, for every service (--grace)
    if (const auto* argument = named(command_line.services, name)) where.service = argument->spot;
    ServiceSettings ports;
    ports.port = ports_named(command_line.services, name);
    apply(ports, config, where);
    if (resolved.quiet) config.options.http.access_log.clear();
    // Every service, none named: http only when given a root (serving a directory is a choice).
    if (!required && name == "http" && config.options.http.root.empty()) continue;
    resolved.config.services.push_back(std::move(config));
    spots.push_back(std::move(where));
  }

  std::vector<SettingError> errors;
  for (auto& problem : check(resolved.config)) {
    const Spot spot = problem.service == ConfigProblem::kServer ? Spot{} : spots[problem.service].of(problem.key);
    errors.push_back({spot, std::move(problem.message)});
  }
  if (!errors.empty()) throw SettingErrors(std::move(errors));
  return resolved;
}

std::optional<net::Address> parse_listen_address(std::string_view given, std::string& problem) {
  const std::string text = given == "localhost" ? "127.0.0.1" : std::string(given);
  for (const auto& candidate : {text + ":0", "[" + text + "]:0"}) {
    auto address = net::Address::parse(candidate);
    if (address && address->is_ip()) return *address;
  }
  problem = fmt::format("{}: not a numeric IPv4 or IPv6 address", given);
  return std::nullopt;
}

std::optional<double> parse_rate(std::string_view text, std::string& problem) {
  const auto slash = text.find('/');
  const auto number = text.substr(0, slash);
  double per = 1;
  if (slash != std::string_view::npos) {
    const auto unit = text.substr(slash + 1);
    if (unit == "s") per = 1;
    else if (unit == "min") per = 60;
    else if (unit == "h") per = 3600;
    else {
      problem = fmt::format("'{}': a rate is N, N/s, N/min or N/h", text);
      return std::nullopt;
    }
  }
  double value = 0;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (number.empty() || ec != std::errc{} || end != number.data() + number.size() || !std::isfinite(value) ||
      value < 0 || value / per > kMaxRate) {
    problem = fmt::format("'{}': a rate is a number from 0 to {:g} (N, N/s, N/min or N/h)", text, kMaxRate);
    return std::nullopt;
  }
  return value / per;
}

}  // namespace sockit::serve
