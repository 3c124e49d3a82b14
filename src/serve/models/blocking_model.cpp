#include "serve/models/blocking_model.hpp"

#include <fmt/core.h>

#include <exception>
#include <stdexcept>
#include <thread>
#include <vector>

namespace sockit::serve::models::blocking {

void BlockingModel::run_all(std::span<const Endpoint> given, const Limits& limits, StopSignal& stop) {
  const AdmittedEndpoints admitted(given, limits);
  const auto endpoints = admitted.all();
  if (endpoints.size() == 1) return serve(endpoints[0], endpoints[0].limits_or(limits), stop);
  std::vector<std::exception_ptr> failures(endpoints.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < endpoints.size(); ++i)
    threads.emplace_back([&, i] {
      try {
        serve(endpoints[i], endpoints[i].limits_or(limits), stop);
      } catch (const std::exception& e) {
        failures[i] = std::make_exception_ptr(std::runtime_error(fmt::format("{}: {}", endpoints[i].service.name(), e.what())));
      }
    });
  for (auto& thread : threads) thread.join();
  for (const auto& failure : failures)
    if (failure) std::rethrow_exception(failure);
}

}  // namespace sockit::serve::models::blocking
