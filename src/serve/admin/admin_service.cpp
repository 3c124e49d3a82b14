#include "serve/admin/admin_service.hpp"

#include <arpa/inet.h>
#include <unistd.h>

#include <chrono>
#include <limits>
#include <mutex>
#include <string>

#include "http/request_parser.hpp"
#include "http/syntax.hpp"
#include "http/target_path.hpp"
#include "net/address.hpp"
#include "serve/admin/process_stats.hpp"
#include "serve/admin/status_page.hpp"
#include "serve/services/http/request_session.hpp"
#include "serve/services/http/response_head.hpp"

namespace sockit::serve::admin {
namespace {

namespace core = sockit::http;
using services::http::Answered;
using services::http::Persistence;
using services::http::Responder;
using services::http::ResponseHead;

constexpr std::string_view kPolicy =
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; "
    "img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

// An admin request is a line and a few fields: a tenth of the file server's limits.
core::ParserLimits admin_parser_limits() {
  core::ParserLimits limits;
  limits.max_request_line = 1024;
  limits.max_header_bytes = 8 * 1024;
  limits.max_fields = 50;
  limits.max_body = 0;
  return limits;
}

// An IP address (with or without port) or localhost: what a browser sends for a page it reached
// by address rather than by a name someone else controls.
bool loopback_style_host(std::string_view field) {
  const std::string host(net::host_part(field));
  if (core::iequals(host, "localhost")) return true;
  in6_addr any{};
  return ::inet_pton(AF_INET, host.c_str(), &any) == 1 || ::inet_pton(AF_INET6, host.c_str(), &any) == 1;
}

class AdminService;

class AdminSession : public services::http::RequestSession {
 public:
  AdminSession(const AdminService& service, const SessionContext& context);

 private:
  Answered respond(const core::Request& request, Persistence persistence, std::string_view date,
                   Output& out) override;

  const AdminService& service_;
};

class AdminService : public Service {
 public:
  AdminService(const StatusSource& source, AdminOptions options) : source_(source), options_(options) {}

  std::string_view name() const noexcept override { return "admin"; }
  std::unique_ptr<Session> new_session(const SessionContext& context) const override {
    return std::make_unique<AdminSession>(*this, context);
  }

  const core::ParserLimits& limits() const noexcept { return limits_; }
  const AdminOptions& options() const noexcept { return options_; }

  std::string metrics() const {
    std::lock_guard lock(mutex_);
    PrometheusText page;
    source_.metrics(page);
    const auto process = process_stats();
    page.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
    page.sample("process_resident_memory_bytes", {}, process.resident_bytes);
    page.family("process_open_fds", "gauge", "Number of open file descriptors.");
    page.sample("process_open_fds", {}, process.open_fds);
    page.family("process_max_fds", "gauge", "Maximum number of open file descriptors.");
    page.sample("process_max_fds", {}, process.max_fds);
    page.family("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
    page.sample("process_cpu_seconds_total", {}, process.cpu_seconds);
    page.family("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.");
    page.sample("process_start_time_seconds", {}, process.start_time);
    return page.text();
  }

  std::string status() const {
    std::lock_guard lock(mutex_);
    const auto process = process_stats();
    const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    Json status;
    status["title"] = source_.title();
    status["uptime_seconds"] = process.start_time > 0 ? now - process.start_time : 0;
    status["process"] = {{"pid", ::getpid()},
                         {"resident_bytes", process.resident_bytes},
                         {"open_fds", process.open_fds},
                         {"max_fds", process.max_fds},
                         {"cpu_seconds", process.cpu_seconds}};
    status.update(source_.status(rates_));
    // Paths and names need not be UTF-8: what is not shows as U+FFFD rather than failing.
    return status.dump(-1, ' ', false, Json::error_handler_t::replace);
  }

 private:
  const StatusSource& source_;
  AdminOptions options_;
  core::ParserLimits limits_ = admin_parser_limits();
  mutable std::mutex mutex_;  // the source and the rates are asked one request at a time
  mutable RateMeter rates_;
};

AdminSession::AdminSession(const AdminService& service, const SessionContext& context)
    : RequestSession(context, service.limits(), std::numeric_limits<std::size_t>::max()), service_(service) {}

Answered AdminSession::respond(const core::Request& request, Persistence persistence, std::string_view date,
                               Output& out) {
  const bool head = request.method == "HEAD";
  if (!head && request.method != "GET") return Responder::error(405, false, persistence, date, out, "Allow: GET, HEAD\r\n");
  if (service_.options().loopback_hosts_only) {
    const auto* host = request.field("Host");
    if (host && !loopback_style_host(*host)) return Responder::error(403, head, persistence, date, out);
  }
  const auto target = core::resolve_target(request.target);
  if (!target) return Responder::error(400, head, persistence, date, out);
  std::string body;
  std::string_view type;
  if (target->path.empty()) {
    body = std::string(status_page());
    type = "text/html; charset=utf-8";
  } else if (target->path == "metrics") {
    body = service_.metrics();
    type = PrometheusText::kContentType;
  } else if (target->path == "status.json") {
    body = service_.status();
    type = "application/json";
  } else {
    return Responder::error(404, head, persistence, date, out);
  }
  ResponseHead response(200, date);
  response.field("Content-Type", type).field("Cache-Control", "no-store").field("X-Content-Type-Options", "nosniff");
  if (target->path.empty()) response.field("Content-Security-Policy", kPolicy);
  out.append(response.finish(body.size(), persistence.close, persistence.http10_keep_alive));
  if (!head) out.append(body);
  return {200, head ? 0 : body.size()};
}

}  // namespace

std::unique_ptr<Service> make_admin_service(const StatusSource& source, AdminOptions options) {
  return std::make_unique<AdminService>(source, options);
}

}  // namespace sockit::serve::admin
