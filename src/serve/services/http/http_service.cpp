// HTTP/1.1 static files (RFC 9110, 9112): the notes' web server, and CS:APP's Tiny grown up.
// The session is the parser and the responder over the engine's output: no I/O of its own, file
// bodies go out as file ranges (sendfile), pipelined requests are answered in order, and a
// client that stops reading stops being served (the output budget).
#include <fmt/core.h>

#include "http/date.hpp"
#include "http/mime_types.hpp"
#include "http/request_parser.hpp"
#include "serve/services/http/access_log.hpp"
#include "serve/services/http/file_store.hpp"
#include "serve/services/http/responder.hpp"
#include "serve/services/services.hpp"

namespace sockit::serve::services {
namespace {

namespace core = sockit::http;
using http::Answered;
using http::Persistence;
using http::Responder;

// What every session of one server shares.
struct Site {
  http::FileStore files;
  core::MimeTypes types;
  Responder responder;
  std::size_t keepalive_requests;
  std::unique_ptr<http::AccessLog> access_log;

  explicit Site(const HttpOptions& options)
      : files(options.root, {}),
        types(core::MimeTypes::load()),
        responder(files, types, options.autoindex),
        keepalive_requests(options.keepalive_requests),
        access_log(options.access_log.empty() ? nullptr : std::make_unique<http::AccessLog>(options.access_log)) {}
};

class HttpSession : public Session {
 public:
  HttpSession(Site& site, const SessionContext& context) : site_(site), now_(context.now), peer_(context.peer) {}

  Taken receive(std::span<const std::byte> in, Output& out) override {
    std::size_t taken = 0;
    if (!parser_) parser_ = std::make_unique<core::RequestParser>();
    while (!out.full()) {
      const auto step = parser_->feed(in.subspan(taken));
      taken += step.consumed;
      if (step.kind == core::RequestParser::Kind::need_more) break;
      if (step.kind == core::RequestParser::Kind::error) {
        const auto& error = parser_->error();
        complaints().push_back(fmt::format("{} {}", error.status, error.reason));
        if (!error.in_body) answer_error(error.status, "", out);
        return {in.size(), Verdict::close};  // nothing after a bad request is read
      }
      const auto& request = parser_->request();
      ++requests_;
      Persistence persistence;
      persistence.close = !request.keep_alive || requests_ >= site_.keepalive_requests;
      persistence.http10_keep_alive = request.minor == 0 && !persistence.close;
      const auto now = now_();
      const auto answered = site_.responder.respond(request, persistence, date(now), out);
      if (site_.access_log) log(request_line(request), answered, now);
      if (persistence.close) return {in.size(), Verdict::close};
    }
    // Between requests the parser holds nothing a fresh one lacks: let it go, so that an idle
    // keep-alive connection keeps neither it nor its buffers (about 500 bytes).
    if (!parser_->mid_request()) parser_.reset();
    return {taken};
  }

  bool mid_request() const noexcept override { return parser_ && parser_->mid_request(); }

  void request_timed_out(std::string_view problem, Output& out) override {
    complaints().emplace_back(problem);
    answer_error(408, "", out);
  }

  std::size_t requests() const noexcept override { return requests_; }

 private:
  void answer_error(int status, std::string_view line, Output& out) {
    const auto now = now_();
    const auto answered = Responder::error(status, false, {.close = true, .http10_keep_alive = false}, date(now), out);
    log(line, answered, now);
  }

  void log(std::string_view line, const Answered& answered, std::chrono::system_clock::time_point now) {
    if (site_.access_log)
      site_.access_log->write(peer_, seconds_of(now), line, answered.status, answered.body_bytes);
  }

  static std::string request_line(const core::Request& request) {
    return fmt::format("{} {} HTTP/1.{}", request.method, request.target, request.minor);
  }

  static std::int64_t seconds_of(std::chrono::system_clock::time_point at) {
    return std::chrono::floor<std::chrono::seconds>(at.time_since_epoch()).count();
  }

  // The Date field, formatted once a second per thread, not per connection: an idle keep-alive
  // connection should not hold a copy (a session runs on one thread at a time, and the view is
  // used before it returns).
  static std::string_view date(std::chrono::system_clock::time_point now) {
    thread_local std::string text;
    thread_local std::int64_t second = -1;
    if (const auto s = seconds_of(now); s != second) {
      text = core::format_date(s);
      second = s;
    }
    return text;
  }

  Site& site_;
  // Of the context, only what it uses: an idle keep-alive connection holds this session.
  std::function<std::chrono::system_clock::time_point()> now_;
  std::string peer_;
  std::unique_ptr<core::RequestParser> parser_;  // null between requests
  std::size_t requests_ = 0;
};

class HttpService : public Service {
 public:
  explicit HttpService(const HttpOptions& options) : site_(std::make_unique<Site>(options)) {}
  std::string_view name() const noexcept override { return "http"; }
  std::unique_ptr<Session> new_session(const SessionContext& context) const override {
    return std::make_unique<HttpSession>(*site_, context);
  }

 private:
  std::unique_ptr<Site> site_;
};

}  // namespace

std::unique_ptr<Service> make_http_tcp(const ServiceOptions& options) {
  return std::make_unique<HttpService>(options.http);
}

}  // namespace sockit::serve::services
