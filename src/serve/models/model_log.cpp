#include "serve/models/model_log.hpp"

namespace sockit::serve::models {

ModelLog ModelLog::for_listener(const net::Socket& listener, const Service& service) const {
  const auto local = listener.local_address();
  ModelLog log(log_, metrics_);
  log.origin_ = Origin{.service = service.name(), .port = local ? local->port() : std::uint16_t{0}};
  if (metrics_) log.counters_ = &metrics_->service(service.name());
  return log;
}

void ModelLog::count(const ConnectionEvent& event) const {
  if (event.event == "connected") {
    counters_->connected();
    metrics_->sources().count(event.peer, false);
  } else if (event.event == "closed") {
    counters_->closed();
  } else if (event.event == "refused") {
    if (event.refusal) counters_->refused(*event.refusal);
    metrics_->sources().count(event.peer, true);
  }
}

}  // namespace sockit::serve::models
