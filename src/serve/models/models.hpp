#pragma once

#include <memory>

#include "serve/model.hpp"

namespace sockit::serve::models {

// One factory per file in this folder; registry.cpp lists them.
std::unique_ptr<Model> make_iterative(const ModelOptions& options);
std::unique_ptr<Model> make_fork(const ModelOptions& options);
std::unique_ptr<Model> make_thread(const ModelOptions& options);
std::unique_ptr<Model> make_pool(const ModelOptions& options);
std::unique_ptr<Model> make_select(const ModelOptions& options);
std::unique_ptr<Model> make_poll(const ModelOptions& options);
std::unique_ptr<Model> make_epoll(const ModelOptions& options);
/// nullptr when this kernel refuses io_uring (probed at run time).
std::unique_ptr<Model> make_uring(const ModelOptions& options);

}  // namespace sockit::serve::models
