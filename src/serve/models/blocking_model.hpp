#pragma once

#include <span>

#include "serve/model.hpp"

namespace sockit::serve::models::blocking {

/// The models that block on one connection at a time (iterative, fork, thread, pool): each
/// endpoint is served by serve() on a thread of its own (one alone on the caller's).
class BlockingModel : public Model {
 public:
  void run_all(std::span<const Endpoint> endpoints, const Limits& limits, StopSignal& stop) final;

 protected:
  /// Blocks: serves one endpoint (its Admission set) with `limits` (its own or the server's)
  /// until stop (grace period included), or until drain and its connections have ended.
  virtual void serve(const Endpoint& endpoint, const Limits& limits, StopSignal& stop) = 0;
};

}  // namespace sockit::serve::models::blocking
