// HTTP/1.1 static files (RFC 9110, 9112): the notes' web server, and CS:APP's Tiny grown up.
// The session is the parser and the responder over the engine's output: no I/O of its own, file
// bodies go out as file ranges (sendfile), pipelined requests are answered in order, and a
// client that stops reading stops being served (the output budget).
#include <fmt/core.h>

#include <chrono>

#include "http/date.hpp"
#include "http/mime_types.hpp"
#include "http/request_parser.hpp"
#include "serve/services/http/access_log.hpp"
#include "serve/services/http/file_store.hpp"
#include "serve/services/http/request_session.hpp"
#include "serve/services/http/responder.hpp"
#include "serve/services/http/response_head.hpp"
#include "serve/services/services.hpp"

namespace sockit::serve::services {
namespace {

namespace core = sockit::http;
using http::Answered;
using http::Persistence;
using http::Responder;
using http::ResponseHead;

// What every session of one server shares.
struct Site {
  http::FileStore files;
  core::MimeTypes types;
  Responder responder;
  core::ParserLimits limits;
  std::size_t keepalive_requests;
  std::unique_ptr<http::AccessLog> access_log;

  explicit Site(const HttpOptions& options)
      : files(options.root, {}),
        types(core::MimeTypes::load()),
        responder(files, types, options.autoindex),
        limits(),
        keepalive_requests(options.keepalive_requests),
        access_log(options.access_log.empty() ? nullptr : std::make_unique<http::AccessLog>(options.access_log)) {}
};

class HttpSession : public http::RequestSession {
 public:
  HttpSession(Site& site, const SessionContext& context)
      : RequestSession(context, site.limits, site.keepalive_requests), site_(site) {}

 private:
  Answered respond(const core::Request& request, Persistence persistence, std::string_view date,
                   Output& out) override {
    return site_.responder.respond(request, persistence, date, out);
  }

  void answered(std::string_view request_line, const Answered& answer,
                std::chrono::system_clock::time_point now) override {
    if (site_.access_log)
      site_.access_log->write(peer(), std::chrono::floor<std::chrono::seconds>(now.time_since_epoch()).count(),
                              request_line, answer.status, answer.body_bytes);
  }

  Site& site_;
};

class HttpService : public Service {
 public:
  explicit HttpService(const HttpOptions& options) : site_(std::make_unique<Site>(options)) {}
  std::string_view name() const noexcept override { return "http"; }
  std::unique_ptr<Session> new_session(const SessionContext& context) const override {
    return std::make_unique<HttpSession>(*site_, context);
  }
  // A response to the request the client is about to send: 403 for an address not allowed, 429
  // for too many from one address (RFC 6585), 503 when the server is full (RFC 9110 15.6.4).
  // The Date comes from the clock here: a refusal has no session, so no clock to be given.
  std::string refusal_answer(ConnectionRefusal kind, std::string_view reason) const override {
    const int status = kind == ConnectionRefusal::denied                                      ? 403
                       : kind == ConnectionRefusal::per_source || kind == ConnectionRefusal::rate ? 429
                                                                                                  : 503;
    const auto body = fmt::format("{}\n", reason);
    const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
    ResponseHead head(status, core::format_date(now.count()));
    head.field("Content-Type", "text/plain; charset=utf-8");
    return head.finish(body.size(), /*close=*/true, /*http10_keep_alive=*/false) + body;
  }

 private:
  std::unique_ptr<Site> site_;
};

}  // namespace

std::unique_ptr<Service> make_http_tcp(const ServiceOptions& options) {
  return std::make_unique<HttpService>(options.http);
}

}  // namespace sockit::serve::services
