#pragma once

#include <string_view>

#include "net/socket.hpp"
#include "serve/connection_log.hpp"
#include "serve/log.hpp"
#include "serve/metrics.hpp"
#include "serve/session.hpp"

namespace sockit::serve::models {

/// Where a model reports what its connections do: ModelOptions::log, for lines (models may run
/// without a log: tests, --quiet), and ModelOptions::metrics, for counters (only with --admin);
/// either may be absent, and counting never depends on logging. for_listener() adds the
/// listener its connections came in on: every line names it, and its service's counters count.
class ModelLog {
 public:
  explicit ModelLog(Log* log = nullptr, Metrics* metrics = nullptr) noexcept : log_(log), metrics_(metrics) {}
  /// This log, for the connections `service` gets on `listener`.
  ModelLog for_listener(const net::Socket& listener, const Service& service) const;

  void notice(std::string_view message) const {
    if (log_) log_->notice(message);
  }
  void connection(std::string_view message) const {
    if (log_) log_->connection(message, origin_);
  }
  /// Every connection passes here: connected, closed, refused. Counted, then logged.
  void connection(ConnectionEvent event) const {
    if (counters_) count(event);
    if (!log_) return;
    event.origin = origin_;
    log_->connection(event);
  }

  /// The listener's service's counters; null without metrics (or before for_listener).
  ServiceCounters* counters() const noexcept { return counters_; }

 private:
  void count(const ConnectionEvent& event) const;

  Log* log_;
  Metrics* metrics_;
  Origin origin_{};
  ServiceCounters* counters_ = nullptr;
};

}  // namespace sockit::serve::models
