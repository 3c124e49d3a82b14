// Scaffolding while the models land: each factory here moves to its own file. Delete this file
// when it is empty.
#include "serve/models/models.hpp"

namespace sockit::serve::models {

std::unique_ptr<Model> make_iterative(const ModelOptions&) { return nullptr; }
std::unique_ptr<Model> make_fork(const ModelOptions&) { return nullptr; }
std::unique_ptr<Model> make_thread(const ModelOptions&) { return nullptr; }
std::unique_ptr<Model> make_pool(const ModelOptions&) { return nullptr; }

}  // namespace sockit::serve::models
