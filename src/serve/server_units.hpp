#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "net/socket.hpp"
#include "serve/admission.hpp"
#include "serve/log.hpp"
#include "serve/model.hpp"
#include "serve/server.hpp"
#include "serve/session.hpp"
#include "serve/stop_signal.hpp"
#include "serve/udp_guard.hpp"

namespace sockit::serve {

/// What a Server runs, each on a thread of its own with a StopSignal of its own: so that a
/// reload can drain one (it accepts no more, its connections go on) while the rest serve on.
/// Thread-safe: drain()/stop()/finished() from any thread; start() and join() from the Server's.
class Unit {
 public:
  Unit() = default;
  Unit(const Unit&) = delete;
  Unit& operator=(const Unit&) = delete;
  /// Stops (stop()) and joins a unit that is still running.
  virtual ~Unit();

  /// Starts serving on a new thread. Throws std::system_error if no thread can be made.
  void start();
  bool started() const noexcept { return thread_.joinable(); }
  /// Accept no more; connections go on until they end (StopSignal::drain).
  void drain() noexcept { stop_.drain(); }
  /// Stop: idle connections close, the rest get the grace period.
  void stop() noexcept { stop_.request(); }
  /// After drain(): blocks until it takes no client any more, or `limit` passes.
  bool wait_for_accepting(std::chrono::milliseconds limit) const { return stop_.wait_for_accepting(limit); }
  /// The serving thread has returned (drained, stopped, or failed: logged).
  bool finished() const noexcept { return finished_.load(std::memory_order_acquire); }
  /// Blocks until the thread has returned.
  void join();

 protected:
  /// Blocks: serves until `stop` drains or stops; may throw (logged as `what` stopped).
  virtual void serve(StopSignal& stop) = 0;
  /// "TCP" or "echo/udp": what the log line names when serve() throws.
  virtual std::string what() const = 0;
  /// Where serve() failures are logged; may be nullptr.
  virtual Log* log() const noexcept = 0;

 private:
  StopSignal stop_;
  std::thread thread_;
  std::atomic<bool> finished_{false};
};

/// A TCP service as a member of a TcpGroup: everything its endpoints refer to, kept alive by
/// the group for as long as it runs (a draining group outlives the configuration that made it).
struct TcpMember {
  ServiceConfig config;
  std::shared_ptr<const Service> service;
  std::shared_ptr<Admission> admission;  ///< the service's, shared with the groups before and after
  std::vector<std::shared_ptr<net::Socket>> sockets;
};

/// TCP services with the same model, threads and offload, served by one model run (one set of
/// loops for all, as one server).
class TcpGroup : public Unit {
 public:
  /// Throws ConfigError when the model is unknown or not available here.
  /// `metrics`: what its connections count (ModelOptions::metrics); may be nullptr.
  TcpGroup(const std::string& model, unsigned threads, bool offload, std::vector<TcpMember> members,
           std::chrono::milliseconds grace_period, Metrics* metrics, Log* log);
  ~TcpGroup() override;

  const std::string& model() const noexcept { return model_name_; }
  unsigned threads() const noexcept { return threads_; }
  bool offload() const noexcept { return offload_; }
  const std::vector<TcpMember>& members() const noexcept { return members_; }
  /// Same model settings, and members with the same settings on the same sockets, in order:
  /// nothing a reload would change.
  bool same_as(const TcpGroup& other) const;

 protected:
  void serve(StopSignal& stop) override;
  std::string what() const override { return "TCP"; }
  Log* log() const noexcept override { return log_; }

 private:
  std::string model_name_;
  unsigned threads_;
  bool offload_;
  std::unique_ptr<Model> model_;
  std::vector<TcpMember> members_;
  std::vector<Endpoint> endpoints_;  // into members_
  Limits limits_;                    // the grace period, for all
  Log* log_;
};

/// One UDP service on its sockets, with its threads.
class UdpUnit : public Unit {
 public:
  UdpUnit(ServiceConfig config, std::shared_ptr<const DatagramService> service,
          std::vector<std::shared_ptr<net::Socket>> sockets, UdpGuard& guard, Log* log);
  ~UdpUnit() override;

  const ServiceConfig& config() const noexcept { return config_; }
  const std::vector<std::shared_ptr<net::Socket>>& sockets() const noexcept { return sockets_; }
  unsigned threads() const noexcept { return std::max(1u, config_.threads); }

 protected:
  void serve(StopSignal& stop) override;
  std::string what() const override { return config_.name + "/udp"; }
  Log* log() const noexcept override { return log_; }

 private:
  ServiceConfig config_;
  std::shared_ptr<const DatagramService> service_;
  std::vector<std::shared_ptr<net::Socket>> sockets_;
  UdpGuard& guard_;
  Log* log_;
};

/// Threads a TCP model runs per listener, as the startup table shows: 0 for one per connection.
unsigned tcp_threads(std::string_view model, unsigned threads);

}  // namespace sockit::serve
