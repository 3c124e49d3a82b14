#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "net/socket.hpp"
#include "serve/admission.hpp"
#include "serve/log.hpp"
#include "serve/session.hpp"
#include "serve/stop_signal.hpp"

namespace sockit::serve {

class Metrics;

/// Limits every model enforces, from `sockit serve` flags.
struct Limits {
  /// --max-conns: more are accepted and closed at once. Counted by an endpoint's Admission; a
  /// model run's endpoints that have none share one counting this.
  std::size_t max_conns = 10000;
  std::chrono::milliseconds idle_timeout{std::chrono::minutes(5)};  ///< --idle-timeout: silent clients are closed
  std::size_t max_line = 8192;                            ///< --max-line, handed to sessions
  /// --request-timeout: a request begun (Session::mid_request) must be complete within this, or
  /// the session answers its error and the connection closes (slowloris); zero: no limit.
  std::chrono::milliseconds request_timeout{std::chrono::seconds(30)};
  std::chrono::milliseconds grace_period{std::chrono::seconds(5)};  ///< in-flight work after stop
  /// Lingering close: a session that closes while its client still sends gets its answer out,
  /// the server's side shut (FIN), then what the client sends is read and thrown away until its
  /// EOF or for this long (Apache's MAX_SECS_TO_LINGER; nginx's lingering_time is 30 s). A
  /// close with unread input would reset the connection and destroy the answer unread.
  std::chrono::milliseconds linger{std::chrono::seconds(2)};
  /// Output budget per connection: a session takes no further request while this much output
  /// (file ranges counted by their length) waits to be sent, and the connection stops reading.
  std::size_t high_water = 1 << 20;
  /// Reading and requests resume once the unsent output has drained to this.
  std::size_t low_water = 256 << 10;

  friend bool operator==(const Limits&, const Limits&) = default;
};

/// How a model is built: threads, CPU offload and where it logs.
struct ModelOptions {
  unsigned threads = 0;  ///< 0: the model's default (one per core for epoll/uring/pool)
  /// Event models run a CPU-bound session (Session::cpu_bound) on worker threads so that its
  /// loop keeps serving everyone else; false runs it inline, stalling the loop (--no-offload).
  bool offload = true;
  Log* log = nullptr;
  /// Counters every connection moves (bytes, requests, latency, refusals); null: none (no --admin).
  Metrics* metrics = nullptr;
};

/// A listening socket and the service its clients get.
struct Endpoint {
  net::Socket& listener;
  const Service& service;
  /// This service's own limits for each connection (timeouts, --max-line, the output budget);
  /// null: the server's. The grace period is always the server's, for all.
  const Limits* limits = nullptr;
  /// Who may connect and how many at once (max_conns, per source, rate, allow/deny); every
  /// model asks it at accept. Null: the run's endpoints share one counting Limits::max_conns.
  Admission* admission = nullptr;

  const Limits& limits_or(const Limits& server) const noexcept { return limits ? *limits : server; }
};

/// A server design. One file each in models/.
class Model {
 public:
  virtual ~Model() = default;
  virtual std::string_view name() const noexcept = 0;
  /// Blocks: serves `service` on `listener` as run_all() serves one endpoint.
  void run(net::Socket& listener, const Service& service, const Limits& limits, StopSignal& stop);
  /// Blocks: serves every endpoint until `stop` fires and their connections are done (or the
  /// grace period ends), or until StopSignal::drain() and every connection has ended by itself.
  /// Never throws for a client's fault; logs and goes on. Event models serve them all from the
  /// same loops, as one server (a CPU-bound service then shares the loops with the others: what
  /// offload is for). Blocking models run each endpoint on a thread of its own; a failing
  /// endpoint does not stop the others, and the first failure is rethrown, naming its service,
  /// once all have returned.
  virtual void run_all(std::span<const Endpoint> endpoints, const Limits& limits, StopSignal& stop) = 0;
};

/// A model run's endpoints, each with its Admission: those given none share one that holds them
/// all to Limits::max_conns, as --max-conns (a model run outside a Server: the Cascade servers,
/// tests). What every model's run_all() serves.
class AdmittedEndpoints {
 public:
  AdmittedEndpoints(std::span<const Endpoint> endpoints, const Limits& limits);
  AdmittedEndpoints(const AdmittedEndpoints&) = delete;
  AdmittedEndpoints& operator=(const AdmittedEndpoints&) = delete;
  std::span<const Endpoint> all() const noexcept { return endpoints_; }

 private:
  Admission shared_;
  std::vector<Endpoint> endpoints_;
};

/// Names of the TCP models this build and this kernel can run (uring only if io_uring works).
std::vector<std::string> available_models();
/// The model called `name`, or nullptr if unknown or unavailable.
std::unique_ptr<Model> make_model(std::string_view name, const ModelOptions& options);

/// The model used when none is named, if this build has it.
inline constexpr std::string_view kPreferredModel = "epoll";
/// kPreferredModel, else the best available (uring, poll, select, pool, thread, fork, iterative).
/// Every build has the blocking ones.
std::string default_model();

}  // namespace sockit::serve
