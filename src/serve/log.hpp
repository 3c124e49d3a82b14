#pragma once

#include <cstdio>
#include <mutex>
#include <string_view>

#include "serve/connection_log.hpp"

namespace sockit::serve {

/// The server's log: one line per event, whole lines even from many threads or processes
/// (each line is one write). Text like "connected 127.0.0.1:50312", or JSON lines with --json-log:
/// {"time", "level", "pid", "message"}; a line about a connection adds "service" and "port" (its
/// listener's), and a connection's event also "event", "peer" and (when closed) "requests" and
/// "reason"; a refused one "reason" and "refusal", its kind ("per-source", "rate", ...).
class Log {
 public:
  enum class Format { text, json };

  explicit Log(std::FILE* out = stdout, bool quiet = false, Format format = Format::text)
      : out_(out), quiet_(quiet), format_(format) {}

  /// Always written: startup lines, errors, shutdown.
  void notice(std::string_view message);
  /// Per-connection chatter (a session's complaint about its client): skipped with --quiet.
  void connection(std::string_view message, Origin origin = {});
  void connection(const ConnectionEvent& event);

  bool quiet() const noexcept { return quiet_; }

  /// Holds the log's lock across fork(): a child has only the forking thread, and would inherit
  /// the lock held for good if another thread was writing a line at that moment (what
  /// pthread_atfork does for a library's locks). Release it in parent and child after fork().
  [[nodiscard]] std::unique_lock<std::mutex> hold_for_fork() { return std::unique_lock(mutex_); }

 private:
  void write(std::string_view level, std::string_view message, Origin origin = {},
             const ConnectionEvent* event = nullptr);

  std::FILE* out_;
  bool quiet_;
  Format format_;
  std::mutex mutex_;
};

}  // namespace sockit::serve
