#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "net/io.hpp"
#include "tools/http_response.hpp"
#include "tools/http_url.hpp"

namespace sockit::tools {

/// What `sockit bench` asks of a server.
enum class Workload {
  echo,     ///< --size bytes, the reply must be the same bytes
  fib,      ///< "n\n", the reply must be fib(n) and "\n"
  time,     ///< connect, read the 4-byte RFC 868 time, close
  daytime,  ///< connect, read the RFC 867 line, close
  connect,  ///< connect, one echo request, close (the connection rate)
  stream,   ///< --size bytes (1 MiB by default) echoed back: bulk bytes per second
  raw,      ///< --send bytes, reply is --expect (exact) or --expect-bytes (a count)
  http,     ///< GET (or HEAD) of a URL on keep-alive connections; any well-framed response
};

/// "echo", "fib", ... and back; nullopt for unknown names.
std::string_view workload_name(Workload workload) noexcept;
std::optional<Workload> parse_workload(std::string_view name) noexcept;

struct WorkloadOptions {
  Workload workload = Workload::echo;
  std::size_t size = 0;         ///< echo/connect/stream message size; 0: 64 B (stream: 1 MiB)
  unsigned fib_n = 27;          ///< fib
  std::string send{};           ///< raw: the request bytes (escapes already decoded)
  std::string expect{};         ///< raw: the exact reply, when given
  std::size_t expect_bytes = 0; ///< raw: the reply's length, when --expect is not given
  bool udp = false;             ///< one datagram per request and per reply
  HttpUrl url{};                ///< http: what to ask for
  std::string method = "GET";   ///< http: GET or HEAD
};

/// How a reply is recognised: exact bytes, a byte count, one line ending in "\n", or an HTTP
/// response (HttpResponseParser). `valid` (optional) judges a complete count or line reply.
struct Expectation {
  enum class Mode { exact, count, line, http };
  Mode mode = Mode::exact;
  std::string bytes;         ///< exact: the reply
  std::size_t count = 0;     ///< count: the reply's length
  std::size_t max_line = 4096;
  bool head_request = false;  ///< http: responses to HEAD have no body
  std::function<bool(std::string_view)> valid;
};

/// One request and how to tell its reply. Built once, then shared read-only by every thread.
struct Exchange {
  std::string request;             ///< sent per request; empty: the server speaks first
  Expectation expect;
  bool connection_per_request = false;  ///< connect before, close after each request
  bool udp = false;
};

/// The exchange of a workload. Throws std::invalid_argument for combinations that make no
/// sense (raw without --expect/--expect-bytes, connect or stream over UDP, ...).
Exchange make_exchange(const WorkloadOptions& options);

/// fib(n) in decimal (exact for any n: schoolbook big-number addition).
std::string fibonacci_text(unsigned n);

/// The payload echo and stream send: `size` printable bytes in a fixed pattern.
std::string echo_payload(std::size_t size);

/// Decodes C-style escapes in a --send/--expect argument: \r \n \t \0 \\ \xHH.
/// Throws std::invalid_argument for a malformed escape.
std::string decode_escapes(std::string_view text);

enum class ReplyStatus { incomplete, matched, wrong };

/// Follows one reply at a time through bytes that arrive in any pieces. Feed it what was
/// received; it consumes up to the end of the current reply and says whether that reply is
/// complete and right. Pipelined replies: call reset() after each matched one, feed the rest.
class ReplyMatcher {
 public:
  /// Borrows `expect`, which must outlive the matcher.
  explicit ReplyMatcher(const Expectation& expect) noexcept : expect_(&expect), http_(expect.head_request) {}

  struct Step {
    std::size_t used = 0;
    ReplyStatus status = ReplyStatus::incomplete;
  };
  Step feed(net::ConstBytes bytes);
  /// The reply ended (EOF, or the end of a datagram): matched only if it is complete.
  ReplyStatus finish();
  void reset() noexcept;
  /// Bytes of the current reply seen so far.
  std::size_t progress() const noexcept;
  /// The response of the http mode (its status, body bytes, keep-alive), valid until reset().
  const HttpResponseParser& http() const noexcept { return http_; }
  /// Why the reply is wrong, when the mode can tell (http); empty otherwise.
  std::string_view why_wrong() const noexcept { return http_.what(); }

 private:
  const Expectation* expect_;
  HttpResponseParser http_;
  std::size_t seen_ = 0;
  bool done_ = false;
  std::string collected_;  // line replies, and count replies that are judged
};

}  // namespace sockit::tools
