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
  std::unique_ptr<Service> service;
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

std::vector<ServiceRequest> every_service() {
  std::vector<ServiceRequest> all;
  for (const auto& info : services::catalog()) all.push_back({std::string(info.name), std::nullopt});
  return all;
}

std::vector<Planned> plan(const ServerConfig& config, std::vector<std::string>& skipped) {
  const bool named = !config.services.empty();
  std::vector<Planned> planned;
  for (const auto& request : named ? config.services : every_service()) {
    const auto* info = services::find(request.name);
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

net::Address base_address(const std::optional<net::Address>& listen) {
  if (listen) return *listen;
  if (net::Socket::create(AF_INET6, SOCK_STREAM)) return net::Address::any(AF_INET6, 0);
  return net::Address::any(AF_INET, 0);
}

unsigned tcp_threads(std::string_view model, unsigned threads) {
  if (model == "fork" || model == "thread") return 0;
  if (model == "iterative") return 1;
  if (model == "pool") return threads ? threads : models::pool_default_threads();
  if (model == "epoll" || model == "uring") return threads ? threads : std::max(1u, std::thread::hardware_concurrency());
  return threads ? threads : 1;
}

// Port 0 for both transports: UDP gets the port TCP got, if it is free.
std::vector<net::Socket> bind_udp(net::Address address, std::optional<std::uint16_t> tcp_port, unsigned count) {
  if (address.port() == 0 && tcp_port) {
    net::Address same = address;
    same.set_port(*tcp_port);
    if (auto group = bind_udp_group(same, count)) return std::move(*group);
  }
  return bind_udp_group(address, count).value();
}

void note(Log* log, const std::string& message) {
  if (log) log->notice(message);
}

}  // namespace

Server::Server(const ServerConfig& config) : log_(config.log), limits_(config.limits) {
  auto planned = plan(config, skipped_);
  if (std::any_of(planned.begin(), planned.end(), [](const Planned& p) { return p.tcp != nullptr; })) {
    model_name_ = config.model.empty() ? default_model() : config.model;
    model_is_fallback_ = config.model.empty() && model_name_ != kPreferredModel;
    model_ = make_model(model_name_, {.threads = config.threads, .offload = config.offload, .log = log_});
    if (!model_)
      throw ConfigError(fmt::format("model '{}' is unknown or not available in this build (available: {})",
                                    config.model, fmt::join(available_models(), " ")));
  }

  const net::Address base = base_address(config.listen);
  const unsigned udp_sockets = std::max(1u, config.threads);
  for (auto& p : planned) {
    net::Address address = base;
    address.set_port(p.port);
    std::optional<std::uint16_t> tcp_port;
    if (p.tcp) {
      auto socket = net::listen_on(address).value();
      tcp_port = socket.local_address().value().port();
      tcp_.push_back({p.name, std::move(p.tcp), std::move(socket)});
    }
    if (p.udp) udp_.push_back({p.name, std::move(p.udp), bind_udp(address, tcp_port, udp_sockets)});
  }

  for (const auto& l : tcp_)
    listening_.push_back({l.service_name, Transport::tcp, l.socket.local_address().value(),
                          tcp_threads(model_name_, config.threads)});
  for (const auto& l : udp_)
    listening_.push_back({l.service_name, Transport::udp, l.sockets.front().local_address().value(),
                          static_cast<unsigned>(l.sockets.size())});
}

Server::~Server() = default;

void Server::run(StopSignal& stop) {
  std::vector<Endpoint> endpoints;
  for (auto& l : tcp_) endpoints.push_back({l.socket, *l.service});
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
          serve_udp(l.sockets, *l.service, limits_, stop, log_);
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
