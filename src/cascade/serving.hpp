#pragma once

#include <memory>
#include <thread>

#include "net/socket.hpp"
#include "serve/log.hpp"
#include "serve/model.hpp"
#include "serve/stop_signal.hpp"

namespace sockit::cascade {

/// The model cascade serves its tracker and block server with: serve::default_model().
std::unique_ptr<serve::Model> make_serving_model(serve::Log* log);

/// Runs a service on its own thread until stop() or destruction (which stops and joins).
/// The service must outlive this object.
class BackgroundServer {
 public:
  BackgroundServer(net::Socket listener, const serve::Service& service, serve::Limits limits, serve::Log* log);
  ~BackgroundServer();
  BackgroundServer(const BackgroundServer&) = delete;
  BackgroundServer& operator=(const BackgroundServer&) = delete;

  /// Asks the model to stop and waits for its thread.
  void stop();

 private:
  net::Socket listener_;
  std::unique_ptr<serve::Model> model_;
  serve::StopSignal stop_;
  std::jthread thread_;
};

}  // namespace sockit::cascade
