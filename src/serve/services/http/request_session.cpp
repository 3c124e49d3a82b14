#include "serve/services/http/request_session.hpp"

#include <fmt/core.h>

#include "http/date.hpp"

namespace sockit::serve::services::http {
namespace {

namespace core = sockit::http;

std::int64_t seconds_of(std::chrono::system_clock::time_point at) {
  return std::chrono::floor<std::chrono::seconds>(at.time_since_epoch()).count();
}

std::string request_line(const core::Request& request) {
  return fmt::format("{} {} HTTP/1.{}", request.method, request.target, request.minor);
}

}  // namespace

std::string_view http_date(std::chrono::system_clock::time_point now) {
  thread_local std::string text;
  thread_local std::int64_t second = -1;
  if (const auto s = seconds_of(now); s != second) {
    text = core::format_date(s);
    second = s;
  }
  return text;
}

RequestSession::RequestSession(const SessionContext& context, const core::ParserLimits& limits,
                               std::size_t keepalive_requests)
    : now_(context.now), peer_(context.peer), limits_(limits), keepalive_requests_(keepalive_requests) {}

Taken RequestSession::receive(std::span<const std::byte> in, Output& out) {
  std::size_t taken = 0;
  if (!parser_) parser_ = std::make_unique<core::RequestParser>(limits_);
  while (!out.full()) {
    const auto step = parser_->feed(in.subspan(taken));
    taken += step.consumed;
    if (step.kind == core::RequestParser::Kind::need_more) break;
    if (step.kind == core::RequestParser::Kind::error) {
      const auto& error = parser_->error();
      complaints().push_back(fmt::format("{} {}", error.status, error.reason));
      if (!error.in_body) answer_error(error.status, out);
      return {in.size(), Verdict::close};  // nothing after a bad request is read
    }
    const auto& request = parser_->request();
    ++requests_;
    Persistence persistence;
    persistence.close = !request.keep_alive || requests_ >= keepalive_requests_;
    persistence.http10_keep_alive = request.minor == 0 && !persistence.close;
    const auto now = now_();
    const auto answer = respond(request, persistence, http_date(now), out);
    answered(request_line(request), answer, now);
    if (persistence.close) return {in.size(), Verdict::close};
  }
  // Between requests the parser holds nothing a fresh one lacks: let it go, so that an idle
  // keep-alive connection keeps neither it nor its buffers (about 500 bytes).
  if (!parser_->mid_request()) parser_.reset();
  return {taken};
}

void RequestSession::request_timed_out(std::string_view problem, Output& out) {
  complaints().emplace_back(problem);
  answer_error(408, out);
}

void RequestSession::answer_error(int status, Output& out) {
  const auto now = now_();
  const auto answer = Responder::error(status, false, {.close = true, .http10_keep_alive = false}, http_date(now), out);
  answered("", answer, now);
}

}  // namespace sockit::serve::services::http
