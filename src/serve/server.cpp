#include "serve/server.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <exception>
#include <thread>

#include "net/socket.hpp"
#include "serve/models/pool.hpp"
#include "serve/udp.hpp"

namespace sockit::serve {

struct Server::TcpListener {
  std::string service_name;
  std::shared_ptr<Service> service;  ///< one per service, shared by its listen addresses
  net::Socket socket;
};

struct Server::UdpListener {
  std::string service_name;
  std::unique_ptr<DatagramService> service;
  std::vector<net::Socket> sockets;
};

namespace {

// A service of the configuration with the transports it gets, before anything is bound.
struct Planned {
  std::string name;
  std::uint16_t port;
  std::unique_ptr<Service> tcp;
  std::unique_ptr<DatagramService> udp;
};

// Every service; http only with a root (serving a directory is a deliberate choice).
std::vector<ServiceRequest> every_service(const ServerConfig& config) {
  std::vector<ServiceRequest> all;
  for (const auto& info : services::catalog())
    if (info.name != "http" || !config.service_options.http.root.empty())
      all.push_back({std::string(info.name), std::nullopt});
  return all;
}

std::vector<Planned> plan(const ServerConfig& config, std::vector<std::string>& skipped) {
  const bool named = !config.services.empty();
  std::vector<Planned> planned;
  for (const auto& request : named ? config.services : every_service(config)) {
    const auto* info = services::find(request.name);
    if (request.name == "http" && config.service_options.http.root.empty())
      throw ConfigError("http needs --root DIR: the directory it serves");
    if (!info) {
      std::vector<std::string> names;
      for (const auto& s : services::catalog()) names.emplace_back(s.name);
      throw ConfigError(fmt::format("unknown service '{}' (services: {})", request.name, fmt::join(names, " ")));
    }
    const bool tcp_here = config.tcp && info->tcp;
    const bool udp_here = config.udp && info->udp;
    if (named && !tcp_here && !udp_here)
      throw ConfigError(fmt::format("{} has no {} form", request.name, info->tcp ? "UDP" : "TCP"));
    Planned p{request.name, request.port.value_or(config.system_ports ? info->system_port : info->port),
              tcp_here ? services::make_tcp(request.name, config.service_options) : nullptr,
              udp_here ? services::make_udp(request.name, config.service_options) : nullptr};
    if (tcp_here && !p.tcp) skipped.push_back(request.name + "/tcp");
    if (udp_here && !p.udp) skipped.push_back(request.name + "/udp");
    if (named && !p.tcp && !p.udp)
      throw ConfigError(fmt::format("service {} is not built into this sockit", request.name));
    if (p.tcp || p.udp) planned.push_back(std::move(p));
  }
  if (planned.empty()) throw ConfigError("nothing to serve: no service is built for the transports asked");
  return planned;
}

// Redis's protected mode: loopback unless the user names an address. ::1 only where the host
// has IPv6 (a kernel booted with ipv6.disable=1, a container without it), as Redis's "-::1".
bool has_ipv6_loopback() {
  auto probe = net::Socket::create(AF_INET6, SOCK_DGRAM);
  return probe && static_cast<bool>(probe->bind(net::Address::loopback(AF_INET6, 0)));
}

std::vector<net::Address> listen_addresses(const std::optional<net::Address>& listen) {
  if (listen) return {*listen};
  std::vector<net::Address> all{net::Address::loopback(AF_INET, 0)};
  if (has_ipv6_loopback()) all.push_back(net::Address::loopback(AF_INET6, 0));
  return all;
}

unsigned tcp_threads(std::string_view model, unsigned threads) {
  if (model == "fork" || model == "thread") return 0;
  if (model == "iterative") return 1;
  if (model == "pool") return threads ? threads : models::pool_default_threads();
  if (model == "epoll" || model == "uring") return threads ? threads : std::max(1u, std::thread::hardware_concurrency());
  return threads ? threads : 1;
}

using Bind = net::Result<net::Socket> (*)(const net::Address&);

net::Result<net::Socket> bind_tcp(const net::Address& address) { return net::listen_on(address); }
net::Result<net::Socket> bind_udp(const net::Address& address) { return net::bind_datagram(address); }

// One socket per address, all on `port`; for port 0 the first address picks it and the rest follow.
net::Result<std::vector<net::Socket>> bind_at(const std::vector<net::Address>& addresses, std::uint16_t port,
                                              Bind bind) {
  std::vector<net::Socket> sockets;
  for (net::Address address : addresses) {
    address.set_port(port);
    auto socket = bind(address);
    if (!socket) return socket.error();
    if (port == 0) {
      auto local = socket->local_address();
      if (!local) return local.error();
      port = local->port();
    }
    sockets.push_back(std::move(*socket));
  }
  return sockets;
}

// `port` on every address; for port 0, `preferred` (UDP gets the port TCP got) if it is free on
// all of them, else any port that is: the one 127.0.0.1 gets may be taken on ::1, so try again.
std::vector<net::Socket> bind_service(const std::vector<net::Address>& addresses, std::uint16_t port,
                                      std::optional<std::uint16_t> preferred, Bind bind) {
  if (port != 0) return bind_at(addresses, port, bind).value();
  if (preferred)
    if (auto sockets = bind_at(addresses, *preferred, bind)) return std::move(*sockets);
  constexpr int kTries = 8;
  for (int attempt = 1;; ++attempt) {
    auto sockets = bind_at(addresses, 0, bind);
    if (sockets || attempt == kTries || sockets.error().code() != std::errc::address_in_use)
      return std::move(sockets).value();
  }
}

void note(Log* log, const std::string& message) {
  if (log) log->notice(message);
}

}  // namespace

Server::Server(const ServerConfig& config)
    : log_(config.log), limits_(config.limits), service_limits_(config.service_limits) {
  auto planned = plan(config, skipped_);
  if (std::any_of(planned.begin(), planned.end(), [](const Planned& p) { return p.tcp != nullptr; })) {
    model_name_ = config.model.empty() ? default_model() : config.model;
    model_is_fallback_ = config.model.empty() && model_name_ != kPreferredModel;
    model_ = make_model(model_name_, {.threads = config.threads, .offload = config.offload, .log = log_});
    if (!model_)
      throw ConfigError(fmt::format("model '{}' is unknown or not available in this build (available: {})",
                                    config.model, fmt::join(available_models(), " ")));
  }

  const auto addresses = listen_addresses(config.listen);
  udp_threads_ = std::max(1u, config.threads);
  for (auto& p : planned) {
    std::optional<std::uint16_t> tcp_port;
    if (p.tcp) {
      auto sockets = bind_service(addresses, p.port, std::nullopt, bind_tcp);
      tcp_port = sockets.front().local_address().value().port();
      const std::shared_ptr<Service> service(std::move(p.tcp));
      for (auto& socket : sockets) tcp_.push_back({p.name, service, std::move(socket)});
    }
    if (p.udp) udp_.push_back({p.name, std::move(p.udp), bind_service(addresses, p.port, tcp_port, bind_udp)});
  }

  for (const auto& l : tcp_)
    listening_.push_back({l.service_name, Transport::tcp, l.socket.local_address().value(),
                          tcp_threads(model_name_, config.threads)});
  SourcePolicy policy{.own_ports = {}, .broadcasts = interface_broadcasts()};
  for (const auto& l : udp_)
    for (const auto& socket : l.sockets) {
      listening_.push_back({l.service_name, Transport::udp, socket.local_address().value(), udp_threads_});
      policy.own_ports.push_back(listening_.back().address.port());
    }
  if (!udp_.empty())
    guard_ = std::make_unique<UdpGuard>(UdpGuard::Config{.policy = std::move(policy), .rate = config.udp_rate},
                                        log_);
}

Server::~Server() = default;

void Server::run(StopSignal& stop) {
  run_transports(stop);
  if (guard_) guard_->finish();  // every UDP thread is done: the spells still open end here
}

void Server::run_transports(StopSignal& stop) {
  std::vector<Endpoint> endpoints;
  for (auto& l : tcp_) {
    const auto own = service_limits_.find(l.service_name);
    endpoints.push_back({l.socket, *l.service, own == service_limits_.end() ? nullptr : &own->second});
  }
  std::vector<std::jthread> threads;
  try {
    if (model_)
      threads.emplace_back([&] {
        try {
          model_->run_all(endpoints, limits_, stop);
        } catch (const std::exception& e) {  // a thread must not throw: say why TCP stopped
          note(log_, fmt::format("TCP stopped: {}", e.what()));
        }
      });
    for (auto& l : udp_)
      threads.emplace_back([&] {
        try {
          serve_udp(l.sockets, *l.service, udp_threads_, limits_, *guard_, stop, log_);
        } catch (const std::exception& e) {
          note(log_, fmt::format("{}/udp stopped: {}", l.service_name, e.what()));
        }
      });
  } catch (...) {
    stop.request();  // no thread to run a transport on: end the ones started rather than serve half
    throw;
  }
}

}  // namespace sockit::serve
