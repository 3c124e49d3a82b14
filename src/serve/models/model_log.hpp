#pragma once

#include <string_view>

#include "net/socket.hpp"
#include "serve/connection_log.hpp"
#include "serve/log.hpp"
#include "serve/session.hpp"

namespace sockit::serve::models {

/// ModelOptions::log or nothing (models may run without a log: tests), and the listener its
/// connections came in on, which every connection's line names.
class ModelLog {
 public:
  explicit ModelLog(Log* log = nullptr, Origin origin = {}) noexcept : log_(log), origin_(origin) {}
  /// This log, for the connections `service` gets on `listener`.
  ModelLog for_listener(const net::Socket& listener, const Service& service) const;

  void notice(std::string_view message) const {
    if (log_) log_->notice(message);
  }
  void connection(std::string_view message) const {
    if (log_) log_->connection(message, origin_);
  }
  void connection(ConnectionEvent event) const {
    if (!log_) return;
    event.origin = origin_;
    log_->connection(event);
  }

 private:
  Log* log_;
  Origin origin_;
};

}  // namespace sockit::serve::models
