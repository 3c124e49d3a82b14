#include "serve/background_server.hpp"

#include <fmt/core.h>

#include <exception>
#include <stdexcept>

#include "serve/log.hpp"
#include "serve/models/blocking_acceptor.hpp"

namespace sockit::serve {

BackgroundServer::BackgroundServer(net::Socket listener, const Service& service, Limits limits, ModelOptions options)
    : listener_(std::move(listener)), model_(make_model(default_model(), options)) {
  if (!model_) throw std::logic_error("the server engine offers no model");
  thread_ = std::jthread([this, &service, limits, log = options.log] { supervise(service, limits, log); });
}

void BackgroundServer::supervise(const Service& service, const Limits& limits, Log* log) {
  // A run fails when what it needs at start cannot be had (epoll_create1 or an eventfd in a
  // process out of descriptors, which the clients of the main service can bring about at any
  // moment): the listener stays, and the run starts again until descriptors come back. The
  // first failure of a spell is logged; a run that served a while before failing starts a new one.
  bool failing = false;
  while (!stop_.requested()) {
    const auto started = Clock::now();
    try {
      model_->run(listener_, service, limits, stop_);
      return;
    } catch (const std::exception& e) {  // a thread must not throw: say why serving stopped
      const bool at_start = Clock::now() - started < kRetryPause * 4;
      if (log && !(failing && at_start))
        log->notice(fmt::format("{} server stopped: {}; trying again every {} ms", service.name(), e.what(),
                                kRetryPause.count()));
      failing = true;
    }
    models::blocking::pause_unless_stopped(stop_, kRetryPause);
  }
}

BackgroundServer::~BackgroundServer() { stop(); }

void BackgroundServer::stop() {
  stop_.request();
  if (thread_.joinable()) thread_.join();
}

}  // namespace sockit::serve
