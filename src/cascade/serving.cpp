// Which model cascade serves with.
#include "cascade/serving.hpp"


#include <stdexcept>

namespace sockit::cascade {

std::unique_ptr<serve::Model> make_serving_model(serve::Log* log, serve::Metrics* metrics) {
  serve::ModelOptions options;
  options.log = log;
  options.metrics = metrics;
  if (auto model = serve::make_model(serve::default_model(), options)) return model;
  throw std::logic_error("the server engine offers no model");
}

}  // namespace sockit::cascade
