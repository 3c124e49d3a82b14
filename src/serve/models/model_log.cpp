#include "serve/models/model_log.hpp"

namespace sockit::serve::models {

ModelLog ModelLog::for_listener(const net::Socket& listener, const Service& service) const {
  const auto local = listener.local_address();
  return ModelLog(log_, Origin{.service = service.name(), .port = local ? local->port() : std::uint16_t{0}});
}

}  // namespace sockit::serve::models
