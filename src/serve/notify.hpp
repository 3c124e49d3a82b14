#pragma once

// systemd's service notification protocol (sd_notify(3), "Type=notify"): newline-separated
// VARIABLE=value lines sent as one datagram to the AF_UNIX socket that NOTIFY_SOCKET names.
// Written here rather than taken from libsystemd: the protocol is one sendto(), and its own code
// can be unit-tested against a socket the test binds, with no new library in the package's
// dependencies.

#include <optional>
#include <string>
#include <string_view>

#include "net/address.hpp"
#include "net/result.hpp"
#include "serve/log.hpp"

namespace sockit::serve {

/// Where a process started by systemd reports its state. Inactive (every send does nothing and
/// succeeds) when there is no socket to report to.
class Notifier {
 public:
  /// Inactive.
  Notifier() = default;
  /// Reports to `socket_path`: a filesystem path ("/run/systemd/notify") or, starting with '@',
  /// a name in the abstract namespace. Empty: inactive. Errors: a relative or too long path
  /// (sd_notify ignores both; here they are the caller's to log).
  static net::Result<Notifier> create(std::string_view socket_path);

  bool active() const noexcept { return to_.has_value(); }
  /// Sends `state` (e.g. "READY=1\nSTATUS=serving") as one datagram from a socket of its own,
  /// closed at once (as sd_notify does: nothing stays open for children to inherit, and a systemd
  /// that re-executed itself is found at its path again); waits at most a second when the
  /// receiver's queue is full. Thread-safe.
  net::Result<void> send(std::string_view state) const;

 private:
  std::optional<net::Address> to_;
  std::string path_;  ///< as given, for messages
};

// The process's notifier: made from NOTIFY_SOCKET on the first call of any of these (which
// then unsets the variable, so that no program this process runs reports in its name). Call
// the first one before starting threads that might read the environment. Thread-safe after
// that. A failure is returned for the caller to log; the server goes on without systemd.

/// READY=1 with STATUS=`status`: every listener is bound and served from now on.
net::Result<void> notify_ready(std::string_view status);
/// RELOADING=1 with MONOTONIC_USEC= (CLOCK_MONOTONIC now, as systemd 253's Type=notify-reload
/// asks): a reload of the configuration has begun; notify_ready() once it has been applied (or
/// rejected: the old configuration serves on).
net::Result<void> notify_reloading();
/// STOPPING=1 with STATUS=`status`: shutdown has begun (in-flight work still finishing).
net::Result<void> notify_stopping(std::string_view status);
/// STATUS=`text`, shown by `systemctl status`. Line breaks become spaces.
net::Result<void> notify_status(std::string_view text);

/// Logs a notification that failed ("systemd notification failed: why"); nothing when it went.
void log_notify_failure(const net::Result<void>& sent, Log& log);

}  // namespace sockit::serve
