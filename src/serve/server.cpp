#include "serve/server.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <compare>
#include <utility>

#include "net/socket.hpp"
#include "serve/inherited_sockets.hpp"
#include "serve/listeners.hpp"
#include "serve/server_units.hpp"

namespace sockit::serve {

namespace {

// How long a reload waits for a run it replaces to take no client any more (a blocking pool
// worker looks every 100 ms; an event loop busy on its CPU may take longer: then the old run may
// still take a client or two with its old settings).
constexpr std::chrono::milliseconds kHandOver{2000};

// A service of the configuration, made, with its sockets.
struct Planned {
  ServiceConfig config;  // model and ports resolved
  std::shared_ptr<const Service> tcp;
  std::shared_ptr<const DatagramService> udp;
  std::vector<std::shared_ptr<net::Socket>> tcp_sockets;
  std::vector<std::shared_ptr<net::Socket>> udp_sockets;
};

// The owner a socket systemd passed has in a ListenerKey: never the Server's to shut down.
std::string inherited_owner(const InheritedSocket& s) { return fmt::format("fd {}", s.fd); }

// The sockets systemd passed `service` for `transport`: those of `current` it had already (a
// reload), else duplicates of them (inherited_listeners()). Adds them to `wanted`.
std::vector<std::shared_ptr<net::Socket>> inherited_for(const ServerConfig& config, const std::string& service,
                                                        Transport transport, const Listeners& current,
                                                        Listeners& wanted) {
  const int type = transport == Transport::tcp ? SOCK_STREAM : SOCK_DGRAM;
  auto copies = inherited_listeners(config, service, type);
  std::vector<std::shared_ptr<net::Socket>> sockets;
  for (const auto& s : config.inherited.at(service)) {
    if (s->type != type) continue;
    const ListenerKey key{transport, s->address.to_string(), inherited_owner(*s)};
    const auto found = current.find(key);
    auto& copy = copies[sockets.size()];
    sockets.push_back(found != current.end() ? found->second : std::make_shared<net::Socket>(std::move(copy)));
    wanted[key] = sockets.back();
  }
  return sockets;
}

std::vector<std::uint16_t> ports_of(const ServiceConfig& config, bool system_ports) {
  if (!config.ports.empty()) return config.ports;
  const auto* info = services::find(config.name);
  return {system_ports ? info->system_port : info->port};
}

}  // namespace

struct Server::Plan {
  std::vector<Planned> services;
  Listeners sockets;  // every socket `services` use
  std::vector<std::string> skipped;
  bool model_is_fallback = false;
};

struct Server::State {
  ServerConfig config;  // what runs now (restart-only settings as first started)
  Listeners sockets;
  std::map<std::string, std::shared_ptr<Admission>, std::less<>> admissions;
  std::vector<std::unique_ptr<TcpGroup>> groups;
  std::vector<std::unique_ptr<UdpUnit>> udp;
  std::vector<std::unique_ptr<Unit>> draining;  // replaced or removed: until their connections end
  std::vector<Listening> listening;
  bool running = false;
  bool stopping = false;
};

ServiceConfig service_config(std::string name, std::optional<std::uint16_t> port) {
  ServiceConfig config;
  config.name = std::move(name);
  if (port) config.ports = {*port};
  return config;
}

Server::Server(const ServerConfig& config)
    : log_(config.log),
      budget_(std::make_shared<ConnectionBudget>(config.max_conns)),
      guard_(std::make_unique<UdpGuard>(
          UdpGuard::Config{.policy = {.own_ports = {}, .broadcasts = interface_broadcasts()}, .rate = config.udp_rate},
          config.log)),
      state_(std::make_unique<State>()) {
  state_->config = config;
  commit(prepare(config), config);
}

Server::~Server() = default;

std::unique_ptr<Server::Plan> Server::prepare(const ServerConfig& config) {
  if (const auto problems = check(config); !problems.empty()) throw ConfigError(problems.front().message);
  auto plan = std::make_unique<Plan>();
  for (const auto& wanted : config.services) {
    const auto* info = services::find(wanted.name);
    Planned p{wanted, nullptr, nullptr, {}, {}};
    p.config.ports = ports_of(wanted, config.system_ports);
    if (wanted.tcp && info->tcp && inherited_allows(config, wanted.name, SOCK_STREAM)) {
      p.tcp = services::make_tcp(wanted.name, wanted.options);
      if (!p.tcp) plan->skipped.push_back(wanted.name + "/tcp");
    }
    if (wanted.udp && info->udp && inherited_allows(config, wanted.name, SOCK_DGRAM)) {
      p.udp = services::make_udp(wanted.name, wanted.options);
      if (!p.udp) plan->skipped.push_back(wanted.name + "/udp");
    }
    if (!p.tcp && !p.udp) continue;  // check() made sure it was not required
    if (p.tcp && p.config.model.empty()) {
      p.config.model = default_model();
      plan->model_is_fallback = plan->model_is_fallback || p.config.model != kPreferredModel;
    }
    plan->services.push_back(std::move(p));
  }
  if (plan->services.empty()) throw ConfigError("nothing to serve: no service is built for the transports asked");

  const auto& current = state_->sockets;
  for (auto& p : plan->services) {
    const auto& name = p.config.name;
    if (config.inherited.contains(name)) {  // systemd's sockets, and none of its own
      if (p.tcp) p.tcp_sockets = inherited_for(config, name, Transport::tcp, current, plan->sockets);
      if (p.udp) p.udp_sockets = inherited_for(config, name, Transport::udp, current, plan->sockets);
      continue;
    }
    const auto addresses = listen_addresses(p.config.listen);
    for (const auto port : p.config.ports) {
      std::optional<std::uint16_t> tcp_port;
      if (p.tcp) {
        auto sockets = listeners_for(name, Transport::tcp, addresses, port, std::nullopt, current, plan->sockets);
        tcp_port = sockets.front()->local_address().value().port();
        p.tcp_sockets.insert(p.tcp_sockets.end(), sockets.begin(), sockets.end());
      }
      if (p.udp) {
        auto sockets = listeners_for(name, Transport::udp, addresses, port, tcp_port, current, plan->sockets);
        p.udp_sockets.insert(p.udp_sockets.end(), sockets.begin(), sockets.end());
      }
    }
  }
  return plan;
}

namespace {

using Admissions = std::map<std::string, std::shared_ptr<Admission>, std::less<>>;
using Groups = std::vector<std::unique_ptr<TcpGroup>>;
using UdpUnits = std::vector<std::unique_ptr<UdpUnit>>;

// The settings each service of `groups` and `udp` runs with, by name.
std::map<std::string, const ServiceConfig*> running(const Groups& groups, const UdpUnits& udp) {
  std::map<std::string, const ServiceConfig*> configs;
  for (const auto& group : groups)
    for (const auto& m : group->members()) configs.emplace(m.config.name, &m.config);
  for (const auto& unit : udp) configs.emplace(unit->config().name, &unit->config());
  return configs;
}

// Which services `planned` starts, stops or changes against what runs.
void compare(const std::vector<Planned>& planned, const Groups& groups, const UdpUnits& udp, ReloadReport& report) {
  const auto before = running(groups, udp);
  for (const auto& p : planned) {
    const auto found = before.find(p.config.name);
    if (found == before.end())
      report.started.push_back(p.config.name);
    else if (!(*found->second == p.config))
      report.changed.push_back(p.config.name);
  }
  for (const auto& entry : before) {
    const auto& name = entry.first;  // named: clang 14 cannot capture a structured binding
    if (std::none_of(planned.begin(), planned.end(), [&](const Planned& p) { return p.config.name == name; }))
      report.stopped.push_back(name);
  }
}

// One Admission per TCP service: the one it had (its per-source counts go on), else a new one.
Admissions admissions_for(const std::vector<Planned>& planned, const Admissions& current,
                          const std::shared_ptr<ConnectionBudget>& budget) {
  Admissions admissions;
  for (const auto& p : planned) {
    if (!p.tcp) continue;
    const auto found = current.find(p.config.name);
    admissions[p.config.name] =
        found != current.end() ? found->second : std::make_shared<Admission>(p.config.admission, budget);
  }
  return admissions;
}

// TCP services with the same model settings in one group each, in the order they first appear.
Groups groups_for(const std::vector<Planned>& planned, Admissions& admissions, std::chrono::milliseconds grace,
                  Metrics* metrics, Log* log) {
  std::vector<std::vector<TcpMember>> members;
  std::vector<const ServiceConfig*> heads;
  for (const auto& p : planned) {
    if (!p.tcp) continue;
    auto at = std::find_if(heads.begin(), heads.end(), [&](const ServiceConfig* h) {
      return h->model == p.config.model && h->threads == p.config.threads && h->offload == p.config.offload;
    });
    if (at == heads.end()) {
      heads.push_back(&p.config);
      members.emplace_back();
      at = std::prev(heads.end());
    }
    members[static_cast<std::size_t>(at - heads.begin())].push_back(
        {p.config, p.tcp, admissions[p.config.name], p.tcp_sockets});
  }
  Groups groups;
  for (std::size_t i = 0; i < heads.size(); ++i)
    groups.push_back(std::make_unique<TcpGroup>(heads[i]->model, heads[i]->threads, heads[i]->offload,
                                                std::move(members[i]), grace, metrics, log));
  return groups;
}

// TCP listeners first, then UDP, each in the order of the configuration.
std::vector<Listening> listening_of(const Groups& groups, const UdpUnits& udp) {
  std::vector<Listening> listening;
  for (const auto& group : groups)
    for (const auto& m : group->members())
      for (const auto& socket : m.sockets)
        listening.push_back({m.config.name, Transport::tcp, socket->local_address().value(), group->model(),
                             tcp_threads(group->model(), group->threads())});
  for (const auto& unit : udp)
    for (const auto& socket : unit->sockets())
      listening.push_back({unit->config().name, Transport::udp, socket->local_address().value(), "", unit->threads()});
  return listening;
}

}  // namespace

ReloadReport Server::commit(std::unique_ptr<Plan> plan, const ServerConfig& config) {
  auto& s = *state_;
  ReloadReport report;
  // Grace changes only at a restart: the services keep the running one, so a file that changes it
  // does not make every service compare as changed.
  for (auto& p : plan->services) p.config.limits.grace_period = s.config.grace_period;
  compare(plan->services, s.groups, s.udp, report);
  auto admissions = admissions_for(plan->services, s.admissions, budget_);
  auto groups = groups_for(plan->services, admissions, s.config.grace_period, config.metrics, log_);
  UdpUnits udp;
  for (const auto& p : plan->services)
    if (p.udp) udp.push_back(std::make_unique<UdpUnit>(p.config, p.udp, p.udp_sockets, *guard_, log_));

  // Nothing below throws but starting a thread. Rules first: a kept group's new connections and
  // a new group's get them alike.
  for (const auto& p : plan->services)
    if (p.tcp) admissions[p.config.name]->set_rules(p.config.admission);
  budget_->set_max(config.max_conns);
  hand_over(groups, udp, plan->sockets);

  std::vector<std::uint16_t> udp_ports;
  for (const auto& unit : udp)
    for (const auto& socket : unit->sockets()) udp_ports.push_back(socket->local_address().value().port());
  guard_->set_own_ports(std::move(udp_ports));

  auto listening = listening_of(groups, udp);
  for (const auto& l : listening)
    if (std::none_of(s.listening.begin(), s.listening.end(), [&](const Listening& o) {
          return o.service == l.service && o.transport == l.transport && o.address == l.address;
        }))
      report.new_listeners.push_back(l);

  if (config.grace_period != s.config.grace_period) report.restart_only.push_back("grace");
  if (config.udp_rate != s.config.udp_rate) report.restart_only.push_back("udp_rate");
  const auto grace = s.config.grace_period;
  const auto udp_rate = s.config.udp_rate;
  s.config = config;
  s.config.grace_period = grace;
  s.config.udp_rate = udp_rate;
  s.sockets = std::move(plan->sockets);
  s.admissions = std::move(admissions);
  s.groups = std::move(groups);
  s.udp = std::move(udp);
  auto view = std::make_shared<View>();
  view->listening = listening;
  for (const auto& p : plan->services) view->services.push_back(p.config);
  view->skipped = std::move(plan->skipped);
  view->model_is_fallback = plan->model_is_fallback;
  s.listening = std::move(listening);
  {
    std::lock_guard lock(view_mutex_);
    view_ = std::move(view);
  }
  return report;
}

// Keeps what is the same; drains what was replaced or removed; starts what is new. A TCP run that
// takes listeners over starts once the runs it replaces take no client any more (they are told,
// then waited for), so that every client from then on gets the new settings; clients that come
// meanwhile wait in the listen backlog. A new UDP run starts before the one it replaces stops:
// its datagrams are read at once. Listeners `wanted` has no more are shut down.
void Server::hand_over(std::vector<std::unique_ptr<TcpGroup>>& groups, std::vector<std::unique_ptr<UdpUnit>>& udp,
                       const Listeners& wanted) {
  auto& s = *state_;
  for (auto& group : groups) {
    auto kept = std::find_if(s.groups.begin(), s.groups.end(), [&](const auto& g) { return g && g->same_as(*group); });
    if (kept != s.groups.end()) group = std::move(*kept);
  }
  for (auto& unit : udp) {
    auto kept = std::find_if(s.udp.begin(), s.udp.end(), [&](const auto& u) {
      return u && u->config() == unit->config() && u->sockets() == unit->sockets();
    });
    if (kept != s.udp.end())
      unit = std::move(*kept);
    else if (s.running)
      unit->start();
  }
  std::vector<Unit*> drained;
  const auto drain = [&](auto& unit) {
    if (!unit || !unit->started()) return;  // never started (a reload before run()): nothing to finish
    unit->drain();
    drained.push_back(unit.get());
    s.draining.push_back(std::move(unit));
  };
  for (auto& group : s.groups) drain(group);
  for (auto& unit : s.udp) drain(unit);
  for (auto* unit : drained) unit->wait_for_accepting(kHandOver);
  // A TCP listener nobody wants any more listens no more: its clients are refused at once rather
  // than queued for nobody. Not one systemd passed: its socket unit holds it, and a reload that
  // adds the service back serves it again.
  for (const auto& [key, socket] : s.sockets)
    if (key.transport == Transport::tcp && !wanted.contains(key) && !key.owner.starts_with("fd "))
      ::shutdown(socket->fd(), SHUT_RDWR);
  if (s.running)
    for (auto& group : groups)
      if (!group->started()) group->start();
}

std::shared_ptr<const Server::View> Server::view() const {
  std::lock_guard lock(view_mutex_);
  return view_;
}

std::vector<Listening> Server::listening() const { return view()->listening; }

std::vector<ServiceConfig> Server::services() const { return view()->services; }

bool Server::model_is_fallback() const { return view()->model_is_fallback; }

std::vector<std::string> Server::skipped() const { return view()->skipped; }

std::uint64_t Server::udp_refused(Refusal reason) const { return guard_->refused(reason); }

ReloadReport Server::reload(const ServerConfig& config) {
  std::lock_guard lock(mutex_);
  if (state_->stopping) throw ConfigError("the server is stopping");
  reap_finished();
  return commit(prepare(config), config);
}

// Called with mutex_ held.
void Server::reap_finished() {
  auto& s = *state_;
  std::erase_if(s.draining, [](const auto& unit) {
    if (!unit->finished()) return false;
    unit->join();
    return true;
  });
}

void Server::run(StopSignal& stop) {
  {
    std::lock_guard lock(mutex_);
    auto& s = *state_;
    s.running = true;
    try {
      for (auto& group : s.groups) group->start();
      for (auto& unit : s.udp) unit->start();
    } catch (...) {
      // No thread to run a unit on: end the ones started rather than serve half.
      s.stopping = true;
      for (auto& group : s.groups) group->stop();
      for (auto& unit : s.udp) unit->stop();
      throw;
    }
  }
  // Finished drains are joined now and then, so that a long run of reloads leaves no thread.
  constexpr int kReapEveryMs = 250;
  while (!stop.requested()) {
    pollfd ready{stop.fd(), POLLIN, 0};
    ::poll(&ready, 1, kReapEveryMs);
    std::lock_guard lock(mutex_);
    reap_finished();
  }
  std::vector<std::unique_ptr<Unit>> units;
  {
    std::lock_guard lock(mutex_);
    auto& s = *state_;
    s.stopping = true;
    for (auto& group : s.groups) units.push_back(std::move(group));
    for (auto& unit : s.udp) units.push_back(std::move(unit));
    for (auto& unit : s.draining) units.push_back(std::move(unit));
    s.groups.clear();
    s.udp.clear();
    s.draining.clear();
  }
  for (auto& unit : units) unit->stop();
  for (auto& unit : units) unit->join();
  guard_->finish();  // every UDP thread is done: the spells still open end here
}

}  // namespace sockit::serve
