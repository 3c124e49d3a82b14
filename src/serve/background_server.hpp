#pragma once

#include <chrono>
#include <memory>
#include <thread>

#include "net/socket.hpp"
#include "serve/model.hpp"
#include "serve/stop_signal.hpp"

namespace sockit::serve {

/// A service served on a thread of its own, by default_model() built with `options`, until
/// stop() or destruction (which stops and joins): Cascade's block server, the admin endpoint.
/// The service must outlive this object. A model run that fails (a process out of descriptors
/// cannot open the run's epoll) says so in `options.log`, and runs again a moment later on the
/// same listener until it serves: a short spell takes the service away only while it lasts.
class BackgroundServer {
 public:
  BackgroundServer(net::Socket listener, const Service& service, Limits limits, ModelOptions options = {});
  ~BackgroundServer();
  BackgroundServer(const BackgroundServer&) = delete;
  BackgroundServer& operator=(const BackgroundServer&) = delete;

  /// Asks the model to stop and waits for its thread.
  void stop();

 private:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds kRetryPause{250};

  void supervise(const Service& service, const Limits& limits, Log* log);

  net::Socket listener_;
  std::unique_ptr<Model> model_;
  StopSignal stop_;
  std::jthread thread_;
};

}  // namespace sockit::serve
