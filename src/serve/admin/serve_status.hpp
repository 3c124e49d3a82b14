#pragma once

#include "serve/admin/status_source.hpp"
#include "serve/metrics.hpp"
#include "serve/server.hpp"

namespace sockit::serve::admin {

/// What `sockit serve --admin` shows: each service with its addresses and its counters (TCP;
/// UDP services show where they listen), the model, connections open and requests a second in
/// all, refusals by reason (connections; UDP datagrams the reflection guard refused), the busiest
/// sources. `server` and `metrics` (the one its models count in) must outlive it.
class ServeStatus : public StatusSource {
 public:
  ServeStatus(const Server& server, const Metrics& metrics) : server_(server), metrics_(metrics) {}

  std::string title() const override { return "sockit serve"; }
  void metrics(PrometheusText& page) const override;
  Json status(RateMeter& rates) const override;

 private:
  const Server& server_;
  const Metrics& metrics_;
};

}  // namespace sockit::serve::admin
