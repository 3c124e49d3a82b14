#pragma once

#include <memory>

#include "serve/background_server.hpp"
#include "serve/log.hpp"
#include "serve/model.hpp"
#include "serve/stop_signal.hpp"

namespace sockit::cascade {

/// The model cascade serves its tracker and block server with: serve::default_model(). Its
/// connections count in `metrics` when given (--admin).
std::unique_ptr<serve::Model> make_serving_model(serve::Log* log, serve::Metrics* metrics = nullptr);

/// A service on its own thread (the block server); see serve::BackgroundServer.
using serve::BackgroundServer;

}  // namespace sockit::cascade
