#pragma once

#include <memory>

#include "serve/admin/status_source.hpp"
#include "serve/session.hpp"

namespace sockit::serve::admin {

struct AdminOptions {
  /// Answer only requests whose Host names an IP address or localhost (403 otherwise): a web
  /// page in a browser on this host that rebinds its own name to 127.0.0.1 (DNS rebinding)
  /// sends its name, and so cannot read the page's client addresses. Off for --admin-public,
  /// whose users may reach it by any name.
  bool loopback_hosts_only = true;
};

/// The admin endpoint as a serve::Service, over sockit's HTTP/1.1 request loop (RequestSession:
/// keep-alive, pipelining, the parser's limits, 408 for a slow request). GET or HEAD of
///   /             the status page (status_page.html), which updates itself every second
///   /metrics      the Prometheus text exposition of `source`'s metrics and the process_* ones
///   /status.json  `source`'s status, with "title", "uptime_seconds" and "process"
/// anything else 404, another method 405. Nothing is cached (Cache-Control: no-store); the page
/// may run only its own inline script and reach only this endpoint (Content-Security-Policy).
/// `source` must outlive the service; it is asked one request at a time.
std::unique_ptr<Service> make_admin_service(const StatusSource& source, AdminOptions options = {});

}  // namespace sockit::serve::admin
