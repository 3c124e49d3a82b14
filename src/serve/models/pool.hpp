#pragma once

namespace sockit::serve::models {

/// Workers the pool model starts when ModelOptions::threads is 0: four per core (at least 4),
/// since its workers block on slow clients rather than burn CPU.
unsigned pool_default_threads() noexcept;

}  // namespace sockit::serve::models
