// check(ServerConfig): what keeps a configuration from being served, one problem per key, so that
// the Server (a ConfigError) and a config file (file:line:column of the key) say the same thing.
#include <fmt/format.h>
#include <netinet/in.h>

#include <algorithm>
#include <filesystem>
#include <optional>

#include "serve/server.hpp"

namespace sockit::serve {
namespace {

bool is_wildcard(const net::Address& a) {
  if (a.family() == AF_INET) return reinterpret_cast<const sockaddr_in*>(a.get())->sin_addr.s_addr == INADDR_ANY;
  return a.family() == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&reinterpret_cast<const sockaddr_in6*>(a.get())->sin6_addr);
}

// Whether sockets bound to `a` and `b` on one port would clash: the same address, or a wildcard
// of the family of the other (an IPv6 wildcard is dual-stack: every IPv4 address too).
bool overlap(net::Address a, net::Address b) {
  a = a.unmapped();
  b = b.unmapped();
  a.set_port(0);
  b.set_port(0);
  if (a == b) return true;
  if (a.family() == b.family()) return is_wildcard(a) || is_wildcard(b);
  return (a.family() == AF_INET6 && is_wildcard(a)) || (b.family() == AF_INET6 && is_wildcard(b));
}

std::vector<net::Address> addresses_of(const ServiceConfig& s) {
  if (!s.listen.empty()) return s.listen;
  return {net::Address::loopback(AF_INET, 0), net::Address::loopback(AF_INET6, 0)};
}

std::vector<std::uint16_t> ports_of(const ServiceConfig& s, bool system_ports) {
  if (!s.ports.empty()) return s.ports;
  const auto* info = services::find(s.name);
  return {system_ports ? info->system_port : info->port};
}

std::string catalog_names() {
  std::vector<std::string> names;
  for (const auto& s : services::catalog()) names.emplace_back(s.name);
  return fmt::format("{}", fmt::join(names, " "));
}

struct Wants {
  bool tcp = false;
  bool udp = false;
};

// The transports `s` gets: those asked for that the service has.
Wants wants(const ServiceConfig& s, const services::ServiceInfo& info) { return {s.tcp && info.tcp, s.udp && info.udp}; }

void check_service(const ServiceConfig& s, std::size_t i, const std::vector<std::string>& models,
                   std::vector<ConfigProblem>& problems) {
  const auto* info = services::find(s.name);
  if (!info) {
    problems.push_back({i, "", fmt::format("unknown service '{}' (services: {})", s.name, catalog_names())});
    return;
  }
  const auto got = wants(s, *info);
  if (s.required && !got.tcp && !got.udp) {
    problems.push_back({i, "transport", fmt::format("{} has no {} form", s.name, info->tcp ? "UDP" : "TCP")});
    return;
  }
  const bool built = (got.tcp && services::has_tcp(s.name)) || (got.udp && services::has_udp(s.name));
  if (s.required && !built)
    problems.push_back({i, "", fmt::format("service {} is not built into this sockit", s.name)});
  if (s.name == "http" && got.tcp) {
    std::error_code error;
    if (s.options.http.root.empty())
      problems.push_back({i, "root", "http needs a root (--root DIR): the directory it serves"});
    else if (!std::filesystem::is_directory(s.options.http.root, error))
      problems.push_back({i, "root", fmt::format("{}: not a directory", s.options.http.root)});
  }
  if (got.tcp && !s.model.empty() && std::find(models.begin(), models.end(), s.model) == models.end())
    problems.push_back({i, "model", fmt::format("model '{}' is unknown or not available in this build (available: {})",
                                                s.model, fmt::join(models, " "))});
  for (std::size_t a = 0; a < s.ports.size(); ++a)
    if (std::find(s.ports.begin(), s.ports.begin() + static_cast<std::ptrdiff_t>(a), s.ports[a]) !=
        s.ports.begin() + static_cast<std::ptrdiff_t>(a))
      problems.push_back({i, "port", fmt::format("port {} is given twice", s.ports[a])});
}

// Why `b` cannot have `port` beside `a` (the same port of a transport both use, on addresses that
// overlap), if it cannot.
std::optional<std::string> clash(const ServiceConfig& a, const ServiceConfig& b, std::uint16_t port) {
  const auto a_wants = wants(a, *services::find(a.name));
  const auto b_wants = wants(b, *services::find(b.name));
  for (const auto& [transport, both] : {std::pair{"tcp", a_wants.tcp && b_wants.tcp},
                                        std::pair{"udp", a_wants.udp && b_wants.udp}}) {
    if (!both) continue;
    for (const auto& x : addresses_of(a))
      for (const auto& y : addresses_of(b))
        if (overlap(x, y)) return fmt::format("port {}/{} on {} is {}'s already", port, transport, y.host(), a.name);
  }
  return std::nullopt;
}

// Each later service of a clashing pair is named, once per pair.
void check_clashes(const ServerConfig& config, std::vector<ConfigProblem>& problems) {
  const auto known = [](const ServiceConfig& s) { return services::find(s.name) != nullptr; };
  for (std::size_t j = 0; j < config.services.size(); ++j) {
    const auto& b = config.services[j];
    if (!known(b)) continue;
    for (std::size_t i = 0; i < j; ++i) {
      const auto& a = config.services[i];
      if (!known(a)) continue;
      const auto a_ports = ports_of(a, config.system_ports);
      for (const auto port : ports_of(b, config.system_ports)) {
        if (port == 0 || std::find(a_ports.begin(), a_ports.end(), port) == a_ports.end()) continue;
        if (auto why = clash(a, b, port)) {
          problems.push_back({j, "port", std::move(*why)});
          break;
        }
      }
    }
  }
}

}  // namespace

std::vector<ConfigProblem> check(const ServerConfig& config) {
  std::vector<ConfigProblem> problems;
  if (config.services.empty()) problems.push_back({ConfigProblem::kServer, "", "nothing to serve: no service named"});
  std::vector<std::string> models;
  if (std::any_of(config.services.begin(), config.services.end(), [](const auto& s) { return !s.model.empty(); }))
    models = available_models();
  for (std::size_t i = 0; i < config.services.size(); ++i) {
    const auto& s = config.services[i];
    for (std::size_t k = 0; k < i; ++k)
      if (config.services[k].name == s.name) {
        problems.push_back({i, "", fmt::format("{} is named twice", s.name)});
        break;
      }
    check_service(s, i, models, problems);
  }
  check_clashes(config, problems);
  return problems;
}

}  // namespace sockit::serve
