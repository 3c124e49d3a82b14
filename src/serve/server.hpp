#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "net/address.hpp"
#include "serve/admission.hpp"
#include "serve/listeners.hpp"
#include "serve/log.hpp"
#include "serve/model.hpp"
#include "serve/refusal.hpp"
#include "serve/services/services.hpp"
#include "serve/stop_signal.hpp"
#include "serve/udp_guard.hpp"

namespace sockit::serve {

/// A configuration that cannot work as asked (unknown service or model, a transport the service
/// lacks): the caller's mistake, not the machine's. The message says what is wrong.
struct ConfigError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

struct InheritedSocket;  // serve/inherited_sockets.hpp
/// Listening sockets passed by systemd (socket activation), shared by every Server made from them.
using InheritedSockets = std::vector<std::shared_ptr<const InheritedSocket>>;

/// One service to serve, every setting resolved (from `sockit serve`'s flags or a config file).
struct ServiceConfig {
  std::string name;
  /// Empty: the catalog's port (its system port with ServerConfig::system_ports); 0 picks a free one.
  std::vector<std::uint16_t> ports;
  bool tcp = true;  ///< TCP wanted (where the service has it)
  bool udp = true;  ///< UDP wanted (where the service has it)
  /// The addresses it binds; their ports are ignored. Empty: loopback only, 127.0.0.1 and ::1
  /// (::1 when the host has IPv6), as Redis's protected mode; every interface only when asked
  /// for (0.0.0.0, or :: for IPv6 and IPv4 both).
  std::vector<net::Address> listen;
  std::string model;     ///< TCP: empty for kPreferredModel, or the best this build has
  unsigned threads = 0;  ///< the model's threads (0: its default); UDP threads (0: 1)
  bool offload = true;   ///< ModelOptions::offload
  /// Its connections' timeouts, --max-line and output budget (max_conns and grace_period are
  /// the server's, in ServerConfig).
  Limits limits;
  AdmissionRules admission;  ///< who may connect, how many at once (its own max_conns included)
  services::ServiceOptions options;
  /// Named by the user: a transport it lacks, or one this build lacks, is an error. False (no
  /// service named: every service): such a service or transport is skipped.
  bool required = true;

  friend bool operator==(const ServiceConfig&, const ServiceConfig&) = default;
};

/// What `sockit serve` serves, and how. Services with the same model, threads and offload run
/// under one model (one set of loops for all of them, as one server); UDP services each on
/// threads of their own.
struct ServerConfig {
  std::vector<ServiceConfig> services;  ///< in order; none is a ConfigError
  std::size_t max_conns = 10000;        ///< --max-conns: the whole server's connections at once
  std::chrono::milliseconds grace_period{std::chrono::seconds(5)};  ///< in-flight work after stop
  bool system_ports = false;  ///< default ports 7, 9, 13, 19, 37 instead of 10007 ...
  double udp_rate = kDefaultUdpRate;  ///< replies a second to one UDP source (UdpGuard); 0: no limit
  /// Sockets systemd passed, by service (use_inherited_sockets() fills it): a service found here
  /// serves these, on the transports they have, and binds none of its own.
  std::map<std::string, InheritedSockets, std::less<>> inherited;
  Log* log = nullptr;         ///< models' lines and why a transport stopped; may be nullptr
  Metrics* metrics = nullptr; ///< what TCP connections count (ModelOptions::metrics); may be nullptr
};

/// A service of the catalog with every setting at its default, on `port` if given.
ServiceConfig service_config(std::string name, std::optional<std::uint16_t> port = std::nullopt);

/// What is wrong with one key of a configuration (check()).
struct ConfigProblem {
  static constexpr std::size_t kServer = static_cast<std::size_t>(-1);
  std::size_t service = kServer;  ///< index in ServerConfig::services; kServer: the server's own
  std::string key;                ///< "model", "transport", "port", "root"; "" for the service itself
  std::string message;
};

/// Every reason `config` cannot be served, but the machine's (an address in use): unknown
/// service or model, a transport the service lacks, http without a root, no service, a port
/// given twice or used by two services on overlapping addresses. A required service this build
/// lacks is a problem; one not required is not (the Server skips it). Pure but for the file
/// system (root) and the model probe.
std::vector<ConfigProblem> check(const ServerConfig& config);

/// One bound listener, as the startup table shows it.
struct Listening {
  std::string service;
  Transport transport;
  net::Address address;  ///< with the port the kernel picked for port 0
  std::string model;     ///< TCP: the model serving it
  unsigned threads;      ///< threads serving it (UDP: the service's, shared by its addresses); 0: one
                         ///< per connection (a process each under fork)
};

/// What a reload changed, by service name.
struct ReloadReport {
  std::vector<std::string> started;  ///< new services
  std::vector<std::string> stopped;  ///< removed: they accept no more, their connections go on
  std::vector<std::string> changed;  ///< new settings for new connections; open ones keep theirs
  std::vector<Listening> new_listeners;  ///< bound by this reload
  /// Settings a reload cannot change (grace, udp_rate) that differ: kept until a restart.
  std::vector<std::string> restart_only;
};

class TcpGroup;
class UdpUnit;

/// Every service of a ServerConfig, TCP under its model and UDP on threads of its own; a reload
/// puts another ServerConfig in place without closing a connection.
class Server {
 public:
  /// Makes the services and the models and binds every listener (one per service, transport,
  /// port and listen address; a service in config.inherited serves those sockets instead), so
  /// nothing runs until all are bound. A UDP port is this server's alone: another process binding
  /// it fails, as with TCP (see udp.cpp). Throws ConfigError for a configuration that cannot
  /// work, net::Error when a bind fails (it names the address);
  /// nothing stays bound after a throw. Prints nothing.
  explicit Server(const ServerConfig& config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// TCP listeners first, then UDP, each in the order of the configuration (127.0.0.1 before
  /// ::1). Thread-safe, and never waits for a reload (it reads the last one's snapshot).
  std::vector<Listening> listening() const;
  /// The services served now, in the order of the configuration, each with its settings as
  /// served (model resolved, ports as given). As thread-safe as listening().
  std::vector<ServiceConfig> services() const;
  /// True when a TCP service named no model and kPreferredModel is not in this build.
  bool model_is_fallback() const;
  /// "name/tcp" or "name/udp" for each transport wanted but not built into this sockit; skipped.
  std::vector<std::string> skipped() const;
  /// UDP datagrams refused for `reason` so far (UdpGuard); thread-safe.
  std::uint64_t udp_refused(Refusal reason) const;

  /// Blocks: serves until `stop` fires and every connection is done (in-flight work is bounded
  /// by the grace period). A transport that fails is logged ("TCP stopped: why") and the others
  /// go on. Refused UDP datagrams are logged a line per spell (UdpGuard). Call once, from one
  /// thread; the Server must outlive the call.
  void run(StopSignal& stop);

  /// Serves `config` from now on (SIGHUP), before or during run(), from any thread (one reload at
  /// a time). Services new in it start; services gone from it stop accepting (their listeners
  /// are shut down: a client is refused at once) and their connections go on until they end;
  /// services whose settings changed get them for new connections, while the connections open
  /// keep theirs. A listener that stays (same transport, address and port) is never closed, so
  /// no client is refused during a reload. All or nothing: throws ConfigError or net::Error (a
  /// bind) and changes nothing. Prints nothing.
  ReloadReport reload(const ServerConfig& config);

 private:
  struct State;
  struct Plan;
  /// What the accessors read: made by every commit(), read by other threads (an admin page)
  /// while a reload holds mutex_ for seconds.
  struct View {
    std::vector<Listening> listening;
    std::vector<ServiceConfig> services;
    std::vector<std::string> skipped;
    bool model_is_fallback = false;
  };
  std::shared_ptr<const View> view() const;

  std::unique_ptr<Plan> prepare(const ServerConfig& config);
  ReloadReport commit(std::unique_ptr<Plan> plan, const ServerConfig& config);
  void hand_over(std::vector<std::unique_ptr<TcpGroup>>& groups, std::vector<std::unique_ptr<UdpUnit>>& udp,
                 const Listeners& wanted);
  void reap_finished();

  Log* log_;
  std::shared_ptr<ConnectionBudget> budget_;
  std::unique_ptr<UdpGuard> guard_;
  mutable std::mutex mutex_;  // the state below: reload() and run() on different threads
  std::unique_ptr<State> state_;
  mutable std::mutex view_mutex_;  // only to copy or replace view_
  std::shared_ptr<const View> view_;
};

}  // namespace sockit::serve
