// Built instead of uring.cpp when liburing is not installed: the model does not exist here.
#include "serve/models/models.hpp"

namespace sockit::serve::models {

std::unique_ptr<Model> make_uring(const ModelOptions&) { return nullptr; }

}  // namespace sockit::serve::models
