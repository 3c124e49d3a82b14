#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "http/request_parser.hpp"
#include "serve/services/http/responder.hpp"
#include "serve/session.hpp"

namespace sockit::serve::services::http {

/// The request loop of an HTTP/1.1 session, whatever its answers are (the static-file server's,
/// the admin endpoint's): parses what arrives, answers each complete request in order with
/// respond() while the output has room (pipelining), closes after a request that asks to, or the
/// `keepalive_requests`-th; a bad request gets its error status (400, 413, 431...) and the
/// connection closes; a request not complete within the model's request timeout gets 408.
/// Between requests it holds no parser, so an idle keep-alive connection costs almost nothing.
class RequestSession : public Session {
 public:
  /// `limits` must outlive the session (its service's).
  RequestSession(const SessionContext& context, const sockit::http::ParserLimits& limits,
                 std::size_t keepalive_requests);

  Taken receive(std::span<const std::byte> in, Output& out) final;
  bool mid_request() const noexcept final { return parser_ && parser_->mid_request(); }
  void request_timed_out(std::string_view problem, Output& out) final;
  std::size_t requests() const noexcept final { return requests_; }

 protected:
  /// Answers one well-formed request (any method: the session says 405 itself where it must).
  virtual Answered respond(const sockit::http::Request& request, Persistence persistence, std::string_view date,
                           Output& out) = 0;
  /// Each answer as it goes out, the request line empty for an error that ended the connection
  /// (an access log's line).
  virtual void answered(std::string_view request_line, const Answered& answer,
                        std::chrono::system_clock::time_point now) {
    (void)request_line, (void)answer, (void)now;
  }
  const std::string& peer() const noexcept { return peer_; }

 private:
  void answer_error(int status, Output& out);

  // Of the context, only what it uses: an idle keep-alive connection holds this session.
  std::function<std::chrono::system_clock::time_point()> now_;
  std::string peer_;
  const sockit::http::ParserLimits& limits_;
  std::size_t keepalive_requests_;
  std::unique_ptr<sockit::http::RequestParser> parser_;  // null between requests
  std::size_t requests_ = 0;
};

/// The Date field's value for `now`: formatted once a second per thread, not per connection (a
/// session runs on one thread at a time, and the view is used before it returns).
std::string_view http_date(std::chrono::system_clock::time_point now);

}  // namespace sockit::serve::services::http
