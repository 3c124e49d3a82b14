// Scaffolding while the models land: each factory here moves to its own file. Delete this file
// when it is empty.
#include "serve/models/models.hpp"

namespace sockit::serve::models {

std::unique_ptr<Model> make_select(const ModelOptions&) { return nullptr; }
std::unique_ptr<Model> make_poll(const ModelOptions&) { return nullptr; }
std::unique_ptr<Model> make_epoll(const ModelOptions&) { return nullptr; }
std::unique_ptr<Model> make_uring(const ModelOptions&) { return nullptr; }

}  // namespace sockit::serve::models
