// Which model cascade serves with, and a server on its own thread.
#include "cascade/serving.hpp"

#include <fmt/core.h>

#include <exception>
#include <stdexcept>

namespace sockit::cascade {

std::unique_ptr<serve::Model> make_serving_model(serve::Log* log) {
  serve::ModelOptions options;
  options.log = log;
  if (auto model = serve::make_model(serve::default_model(), options)) return model;
  throw std::logic_error("the server engine offers no model");
}

BackgroundServer::BackgroundServer(net::Socket listener, const serve::Service& service, serve::Limits limits,
                                   serve::Log* log)
    : listener_(std::move(listener)), model_(make_serving_model(log)) {
  thread_ = std::jthread([this, &service, limits, log] {
    try {
      model_->run(listener_, service, limits, stop_);
    } catch (const std::exception& e) {  // a thread must not throw: say why serving stopped
      if (log) log->notice(fmt::format("block server stopped: {}", e.what()));
    }
  });
}

BackgroundServer::~BackgroundServer() { stop(); }

void BackgroundServer::stop() {
  stop_.request();
  if (thread_.joinable()) thread_.join();
}

}  // namespace sockit::cascade
