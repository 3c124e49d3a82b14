#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "net/address.hpp"
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

/// One service of the catalog to start.
struct ServiceRequest {
  std::string name;
  std::optional<std::uint16_t> port;  ///< default: the catalog's port; 0 picks a free one
};

/// What `sockit serve` serves, and how.
struct ServerConfig {
  /// Empty: every service of the catalog on its default port, skipping what this build lacks.
  /// A named service must have one of the transports asked for and be built.
  std::vector<ServiceRequest> services;
  bool tcp = true;
  bool udp = true;
  /// The address every listener binds; its port is ignored. Default: loopback only, 127.0.0.1
  /// and ::1 (::1 when the host has IPv6), as Redis's protected mode; every interface only when
  /// asked for (0.0.0.0, or :: for IPv6 and IPv4 both).
  std::optional<net::Address> listen;
  std::string model;     ///< empty: kPreferredModel, or the best this build has
  unsigned threads = 0;  ///< the model's threads (0: its default); UDP threads per service (0: 1)
  bool offload = true;   ///< ModelOptions::offload
  Limits limits;
  /// A TCP service's own limits, by name (http's keep-alive and header timeouts); the others
  /// get `limits`. --max-conns and the grace period are `limits`' for all.
  std::map<std::string, Limits, std::less<>> service_limits;
  services::ServiceOptions service_options;
  bool system_ports = false;  ///< default ports 7, 9, 13, 19, 37 instead of 10007 ...
  double udp_rate = kDefaultUdpRate;  ///< replies a second to one UDP source (UdpGuard); 0: no limit
  Log* log = nullptr;         ///< models' lines and why a transport stopped; may be nullptr
};

enum class Transport { tcp, udp };

/// One bound listener, as the startup table shows it.
struct Listening {
  std::string service;
  Transport transport;
  net::Address address;  ///< with the port the kernel picked for port 0
  unsigned threads;      ///< threads serving it (UDP: the service's, shared by its addresses); 0: one
                         ///< per connection (a process each under fork)
};

/// Every service of a ServerConfig, TCP under one model and UDP on threads of its own.
class Server {
 public:
  /// Makes the services and the model and binds every listener (one per service, transport and
  /// listen address), so nothing runs until all are bound. A UDP port is this server's alone:
  /// another process binding it fails, as with TCP (see udp.cpp). Throws ConfigError for a
  /// configuration that cannot work, net::Error when a bind fails (it names the address);
  /// nothing stays bound after a throw. Prints nothing.
  explicit Server(const ServerConfig& config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// TCP listeners first, then UDP, each in the order of the configuration (127.0.0.1 before ::1).
  const std::vector<Listening>& listening() const noexcept { return listening_; }
  /// The TCP model's name; empty when nothing is served over TCP.
  const std::string& model() const noexcept { return model_name_; }
  /// True when no model was asked for and kPreferredModel is not in this build.
  bool model_is_fallback() const noexcept { return model_is_fallback_; }
  /// "name/tcp" or "name/udp" for each transport wanted but not built into this sockit; skipped.
  const std::vector<std::string>& skipped() const noexcept { return skipped_; }
  /// UDP datagrams refused for `reason` so far (UdpGuard); thread-safe.
  std::uint64_t udp_refused(Refusal reason) const { return guard_ ? guard_->refused(reason) : 0; }

  /// Blocks: serves until `stop` fires and every connection is done (in-flight work is bounded
  /// by limits.grace_period). A transport that fails is logged ("TCP stopped: why") and the
  /// others go on. Refused UDP datagrams are logged a line per spell (UdpGuard). Call once, from
  /// one thread; the Server must outlive the call.
  void run(StopSignal& stop);

 private:
  struct TcpListener;
  struct UdpListener;

  void run_transports(StopSignal& stop);

  Log* log_;
  Limits limits_;
  std::map<std::string, Limits, std::less<>> service_limits_;
  std::string model_name_;
  bool model_is_fallback_ = false;
  std::unique_ptr<Model> model_;
  std::vector<TcpListener> tcp_;
  std::vector<UdpListener> udp_;
  unsigned udp_threads_ = 1;
  std::unique_ptr<UdpGuard> guard_;
  std::vector<Listening> listening_;
  std::vector<std::string> skipped_;
};

}  // namespace sockit::serve
