#include <fmt/core.h>

#include <algorithm>
#include <stdexcept>

#include "serve/model.hpp"
#include "serve/models/models.hpp"

namespace sockit::serve {
namespace {

struct ModelEntry {
  std::string_view name;
  std::unique_ptr<Model> (*make)(const ModelOptions&);
};

// Listed by hand: self-registering statics vanish from static libraries.
constexpr ModelEntry kModels[] = {
    {"iterative", models::make_iterative}, {"fork", models::make_fork},
    {"thread", models::make_thread},       {"pool", models::make_pool},
    {"select", models::make_select},       {"poll", models::make_poll},
    {"epoll", models::make_epoll},         {"uring", models::make_uring},
};

// Best first, for default_model().
constexpr std::string_view kPreference[] = {kPreferredModel, "uring", "poll", "select",
                                            "pool",          "thread", "fork", "iterative"};

}  // namespace

void Model::run(net::Socket& listener, const Service& service, const Limits& limits, StopSignal& stop) {
  const Endpoint endpoint{listener, service, &limits};
  run_all(std::span(&endpoint, 1), limits, stop);
}

AdmittedEndpoints::AdmittedEndpoints(std::span<const Endpoint> endpoints, const Limits& limits)
    : shared_(AdmissionRules{}, std::make_shared<ConnectionBudget>(limits.max_conns)) {
  endpoints_.reserve(endpoints.size());
  for (const auto& endpoint : endpoints) {
    endpoints_.push_back(endpoint);
    if (!endpoint.admission) endpoints_.back().admission = &shared_;
  }
}

std::vector<std::string> available_models() {
  std::vector<std::string> names;
  for (const auto& entry : kModels)
    if (entry.make({})) names.emplace_back(entry.name);
  return names;
}

std::unique_ptr<Model> make_model(std::string_view name, const ModelOptions& options) {
  auto it = std::find_if(std::begin(kModels), std::end(kModels), [&](const auto& e) { return e.name == name; });
  return it == std::end(kModels) ? nullptr : it->make(options);
}

std::string default_model() {
  const auto available = available_models();
  for (auto name : kPreference)
    if (std::find(available.begin(), available.end(), name) != available.end()) return std::string(name);
  throw std::logic_error("the server engine offers no model");
}

}  // namespace sockit::serve
