#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "serve/connection_log.hpp"
#include "serve/output.hpp"

namespace sockit::serve {

enum class Verdict { keep_going, close };

/// What receive() did with the bytes it was offered: how many it consumed (from the front), and
/// whether the connection goes on.
struct Taken {
  std::size_t bytes = 0;
  Verdict verdict = Verdict::keep_going;
};

/// Everything a session may know of the world: it is given, never fetched.
struct SessionContext {
  std::function<std::chrono::system_clock::time_point()> now = [] { return std::chrono::system_clock::now(); };
  std::size_t max_line = 8192;  ///< --max-line: longest request line a text protocol accepts
  std::string peer;             ///< the client's address as text, for messages only
};

/// One TCP connection's protocol state. Never sees an fd, a socket, a thread or a clock it was
/// not given. Called from one thread at a time.
///
/// Bounded by construction: the contract between every session and every model.
/// - receive() takes whole requests from the front of what it is offered while `out.full()` is
///   false, answers each completely (an answer may overshoot the budget; it is never cut short),
///   and says how many bytes it took. Once `out` is full it takes nothing more and returns.
/// - While `out` has room it takes every byte: a partial request at the end is kept inside the
///   session, bounded by its own limits (max_line, a fixed request size). Leaving bytes behind
///   with room to spare is a bug; the model closes such a connection.
/// - The bytes it left are the model's to keep. The connection stops reading and offers them
///   again, followed by whatever arrives later, once its output has drained below the low-water
///   mark (Limits::low_water). Pipelined requests are all answered, in order; none is dropped.
/// So a connection holds at most the budget (Limits::high_water) plus one read, whatever its
/// client sends, and a session whose client stopped reading stops working: CPU follows output.
/// The same holds for open() and writable(): they add at most about one budget's worth.
class Session {
 public:
  virtual ~Session() = default;
  /// Called once when the connection opens (chargen/daytime/time answer here).
  virtual Verdict open(Output& out) {
    (void)out;
    return Verdict::keep_going;
  }
  /// Called with whatever bytes arrived, or with what it left last time followed by what arrived
  /// since (any split: short reads are normal). See the contract above.
  virtual Taken receive(std::span<const std::byte> in, Output& out) = 0;
  /// Called when the client half-closed (EOF); may append a last answer.
  virtual Verdict end_of_input(Output& out) {
    (void)out;
    return Verdict::close;
  }
  /// For endless producers (chargen): called when the model has sent everything and the client
  /// is ready for more. Returns close when there is nothing more to produce.
  virtual Verdict writable(Output& out) {
    (void)out;
    return Verdict::keep_going;
  }
  /// True while the session holds part of a request whose rest has not arrived (a line without
  /// its end, half of a fixed-size request): Limits::request_timeout runs from the moment a
  /// request began until it is complete, whatever trickles in meanwhile.
  virtual bool mid_request() const noexcept { return false; }
  /// The request begun was not complete within Limits::request_timeout (`problem` says so): the
  /// session may append its protocol's error. The connection closes after sending it.
  virtual void request_timed_out(std::string_view problem, Output& out) {
    (void)problem;
    (void)out;
  }
  /// True when receive() may take long on the CPU (recursive fib): event models run it on a
  /// worker thread instead of their loop.
  virtual bool cpu_bound() const noexcept { return false; }
  /// Requests answered so far, for the "closed ... after N requests" log line.
  virtual std::size_t requests() const noexcept { return 0; }
  /// Problems worth one log line (bad input); the model logs and clears them.
  std::vector<std::string>& complaints() noexcept { return complaints_; }

 private:
  std::vector<std::string> complaints_;
};

/// A TCP service: a factory of sessions. Thread-safe: models call it from many threads.
class Service {
 public:
  virtual ~Service() = default;
  virtual std::string_view name() const noexcept = 0;
  virtual std::unique_ptr<Session> new_session(const SessionContext& context) const = 0;
  /// Endless producers (chargen) keep writing without being asked.
  virtual bool produces_without_input() const noexcept { return false; }
  /// What a client refused at accept (Admission: `kind`, told `reason`) is sent before the close:
  /// one line of error for a text protocol (refusal_line()), a status for HTTP; empty (the
  /// default) where any byte could be taken for an answer (echo, time, incr): then a bare close.
  virtual std::string refusal_answer(ConnectionRefusal kind, std::string_view reason) const {
    (void)kind;
    (void)reason;
    return {};
  }
};

/// A UDP service: one datagram in, at most one datagram out. Thread-safe.
class DatagramService {
 public:
  virtual ~DatagramService() = default;
  virtual std::string_view name() const noexcept = 0;
  /// The reply, or nullopt for none; `complaint` gets one log line when the datagram is bad.
  virtual std::optional<std::string> answer(std::span<const std::byte> datagram, const SessionContext& context,
                                            std::string& complaint) const = 0;
};

}  // namespace sockit::serve
