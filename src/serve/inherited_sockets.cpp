#include "serve/inherited_sockets.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>

#include "net/error.hpp"
#include "net/options.hpp"
#include "serve/services/services.hpp"

namespace sockit::serve {
namespace {

constexpr int kMaxListenFds = 4096;  // far more than any unit passes; bounds a hostile LISTEN_FDS

std::string transport_name(int type) { return type == SOCK_STREAM ? "TCP" : "UDP"; }

std::optional<std::string> take_variable(const char* name) {
  std::optional<std::string> value;
  if (const char* found = std::getenv(name)) value = found;
  ::unsetenv(name);
  return value;
}

std::optional<long> whole_number(std::string_view text) {
  long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

std::vector<std::string> split_names(std::string_view names) {
  std::vector<std::string> parts;
  for (;;) {
    const auto colon = names.find(':');
    parts.emplace_back(names.substr(0, colon));
    if (colon == std::string_view::npos) return parts;
    names.remove_prefix(colon + 1);
  }
}

ConfigError bad_fd(int fd, std::string_view why) {
  return ConfigError(fmt::format("socket activation: fd {} {}", fd, why));
}

int checked_option(net::Result<int> value, int fd) {
  if (!value) throw bad_fd(fd, fmt::format("cannot be inspected: {}", value.error().what()));
  return *value;
}

// What descriptor `fd` is, checked; owned from here on (closed if it is no use).
InheritedSocket adopt(int fd, std::string name) {
  struct stat status {};
  if (::fstat(fd, &status) < 0) throw bad_fd(fd, "is not open (LISTEN_FDS counts more descriptors than were passed)");
  InheritedSocket s;
  s.socket = net::Socket(net::Fd(fd));
  s.fd = fd;
  s.name = std::move(name);
  if (!S_ISSOCK(status.st_mode)) throw bad_fd(fd, "is not a socket");
  const int family = checked_option(net::socket_family(fd), fd);
  if (family != AF_INET && family != AF_INET6)
    throw bad_fd(fd, "is not an IPv4 or IPv6 socket (sockit serves TCP and UDP over IP)");
  s.type = checked_option(net::socket_type(fd), fd);
  const int protocol = checked_option(net::socket_protocol(fd), fd);
  if (!(s.type == SOCK_STREAM && protocol == IPPROTO_TCP) && !(s.type == SOCK_DGRAM && protocol == IPPROTO_UDP))
    throw bad_fd(fd, "is neither a TCP nor a UDP socket");
  auto local = s.socket.local_address();
  if (!local) throw bad_fd(fd, fmt::format("cannot be inspected: {}", local.error().what()));
  s.address = *local;
  if (s.type == SOCK_STREAM) {
    auto listening = net::listening(fd);
    if (!listening || !*listening)
      throw bad_fd(fd, fmt::format("({}) is a TCP socket that is not listening: a unit with Accept=yes passes "
                                   "connections; sockit needs Accept=no",
                                   s.address.to_string()));
  } else if (s.address.port() == 0) {
    throw bad_fd(fd, "is a UDP socket bound to no port");
  }
  if (::fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) throw bad_fd(fd, net::errno_error("fcntl(F_SETFD)").what());
  return s;
}

// A service a socket may go to, and the port it would bind.
struct Candidate {
  std::string name;
  std::uint16_t port;
};

// Every service may get a socket when none was asked for by name (no service, or every service
// of the catalog, none of them required).
bool every_service(const ServerConfig& config) {
  return std::none_of(config.services.begin(), config.services.end(), [](const auto& s) { return s.required; });
}

std::vector<Candidate> candidates(const ServerConfig& config) {
  std::vector<Candidate> all;
  auto add = [&](std::string_view name, const std::vector<std::uint16_t>& ports) {
    const auto* info = services::find(name);
    if (!info) return;  // Server names the unknown service
    if (ports.empty()) all.push_back({std::string(name), config.system_ports ? info->system_port : info->port});
    for (const auto port : ports) all.push_back({std::string(name), port});
  };
  if (config.services.empty())
    for (const auto& info : services::catalog()) add(info.name, {});
  for (const auto& service : config.services) add(service.name, service.ports);
  return all;
}

// The settings a service has in `config`; a default one for a service it does not list.
ServiceConfig settings_of(const ServerConfig& config, const std::string& name) {
  const auto found = std::find_if(config.services.begin(), config.services.end(),
                                  [&](const ServiceConfig& s) { return s.name == name; });
  return found != config.services.end() ? *found : service_config(name);
}

std::string ports_of(const std::vector<Candidate>& all) {
  std::vector<std::string> shown;
  for (const auto& c : all) shown.push_back(fmt::format("{} {}", c.name, c.port));
  return fmt::format("{}", fmt::join(shown, ", "));
}

// The service a socket goes to: the one its name names, else the candidate on its port.
std::string service_of(const InheritedSocket& s, const std::vector<Candidate>& all, bool named_services) {
  if (services::find(s.name)) {
    if (std::none_of(all.begin(), all.end(), [&](const Candidate& c) { return c.name == s.name; }))
      throw ConfigError(fmt::format("socket activation: {} is named after a service not asked for here ({})",
                                    s.describe(), ports_of(all)));
    return s.name;
  }
  // One port may be two services' (each on one transport): the one with the socket's transport.
  const Candidate* on_port = nullptr;
  for (const auto& c : all) {
    if (c.port != s.address.port()) continue;
    const auto* info = services::find(c.name);
    if (s.type == SOCK_STREAM ? info->tcp : info->udp) return c.name;
    if (!on_port) on_port = &c;
  }
  if (on_port) return on_port->name;  // check_transport() says why it cannot take the socket
  throw ConfigError(fmt::format(
      "socket activation: {} matches no service: name it after one (FileDescriptorName=echo) or bind the port of "
      "one{}",
      s.describe(), named_services ? fmt::format(" ({})", ports_of(all)) : " (sockit serve --list-services)"));
}

void check_transport(const InheritedSocket& s, const std::string& service, const ServerConfig& config) {
  const bool tcp = s.type == SOCK_STREAM;
  const auto* info = services::find(service);
  if (tcp ? !info->tcp : !info->udp)
    throw ConfigError(fmt::format("socket activation: {} is a {} socket, but {} is {} only", s.describe(),
                                  transport_name(s.type), service, tcp ? "UDP" : "TCP"));
  if (tcp ? !services::has_tcp(service) : !services::has_udp(service))
    throw ConfigError(fmt::format("socket activation: {}: {}/{} is not built into this sockit", s.describe(),
                                  service, tcp ? "tcp" : "udp"));
  const auto settings = settings_of(config, service);
  if (tcp ? !settings.tcp : !settings.udp)
    throw ConfigError(fmt::format("socket activation: {} is a {} socket, but only {} is served here ({})",
                                  s.describe(), transport_name(s.type), tcp ? "UDP" : "TCP",
                                  tcp ? "--udp" : "--tcp"));
}

// A second descriptor of the same socket: the original stays where it is.
net::Socket duplicate(const InheritedSocket& s) {
  const int copy = ::fcntl(s.socket.fd(), F_DUPFD_CLOEXEC, 0);
  if (copy < 0) throw net::errno_error("dup", s.address.to_string());
  return net::Socket(net::Fd(copy));
}

}  // namespace

std::string InheritedSocket::describe() const {
  return fmt::format("fd {}{} ({} {})", fd, name.empty() ? "" : fmt::format(" '{}'", name), transport_name(type),
                     address.to_string());
}

ListenEnvironment take_listen_environment() {
  return {take_variable("LISTEN_PID"), take_variable("LISTEN_FDS"), take_variable("LISTEN_FDNAMES")};
}

std::vector<InheritedSocket> adopt_listen_fds(const ListenEnvironment& environment, pid_t self, int first_fd) {
  if (!environment.fds || !environment.pid) return {};
  const auto pid = whole_number(*environment.pid);
  if (!pid) throw ConfigError(fmt::format("socket activation: LISTEN_PID={} is not a process id", *environment.pid));
  if (*pid != self) return {};
  const auto count = whole_number(*environment.fds);
  if (!count || *count > kMaxListenFds)
    throw ConfigError(fmt::format("socket activation: LISTEN_FDS={} is not a number from 0 to {}", *environment.fds,
                                  kMaxListenFds));
  std::vector<std::string> names(static_cast<std::size_t>(*count));
  if (environment.names) {
    names = split_names(*environment.names);
    if (names.size() != static_cast<std::size_t>(*count))
      throw ConfigError(fmt::format("socket activation: LISTEN_FDNAMES={} has {} names for LISTEN_FDS={}",
                                    *environment.names, names.size(), *count));
  }
  std::vector<InheritedSocket> sockets;
  for (int i = 0; i < static_cast<int>(*count); ++i) sockets.push_back(adopt(first_fd + i, std::move(names[i])));
  return sockets;
}

InheritedSockets take_inherited_sockets() {
  InheritedSockets shared;
  for (auto& s : adopt_listen_fds(take_listen_environment(), ::getpid()))
    shared.push_back(std::make_shared<const InheritedSocket>(std::move(s)));
  return shared;
}

void use_inherited_sockets(const InheritedSockets& sockets, ServerConfig& config) {
  if (sockets.empty()) return;
  const auto all = candidates(config);
  const bool every = every_service(config);
  std::map<std::string, InheritedSockets, std::less<>> given;
  std::vector<ServiceConfig> served;
  for (const auto& s : sockets) {
    const auto service = service_of(*s, all, !every);
    check_transport(*s, service, config);
    auto& list = given[service];
    if (list.empty()) {
      served.push_back(settings_of(config, service));
      served.back().required = true;  // systemd asked for it
    }
    list.push_back(s);
  }
  if (every) config.services = std::move(served);
  config.inherited = std::move(given);
}

bool inherited_allows(const ServerConfig& config, std::string_view service, int type) {
  const auto found = config.inherited.find(service);
  if (found == config.inherited.end()) return true;
  return std::any_of(found->second.begin(), found->second.end(), [type](const auto& s) { return s->type == type; });
}

std::vector<net::Socket> inherited_listeners(const ServerConfig& config, std::string_view service, int type) {
  std::vector<net::Socket> copies;
  const auto found = config.inherited.find(service);
  if (found == config.inherited.end()) return copies;
  for (const auto& s : found->second)
    if (s->type == type) copies.push_back(duplicate(*s));
  return copies;
}

std::optional<net::Socket> single_inherited_listener(const InheritedSockets& sockets) {
  if (sockets.empty()) return std::nullopt;
  if (sockets.size() > 1)
    throw ConfigError(fmt::format("socket activation: {} sockets passed ({} ...); this server has one listener",
                                  sockets.size(), sockets.front()->describe()));
  const auto& s = *sockets.front();
  if (s.type != SOCK_STREAM) throw ConfigError(fmt::format("socket activation: {} is not a TCP socket", s.describe()));
  return duplicate(s);
}

}  // namespace sockit::serve
