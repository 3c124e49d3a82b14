#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/io.hpp"
#include "net/socket.hpp"
#include "serve/admission.hpp"
#include "serve/log.hpp"
#include "serve/model.hpp"
#include "serve/models/model_log.hpp"
#include "serve/models/request_meter.hpp"
#include "serve/output.hpp"
#include "serve/session.hpp"

namespace sockit::serve::models {

/// One client of an event model: its socket, its session and its buffers, which live here and
/// are never copied. Knows nothing of how readiness is learnt (select, poll, epoll, io_uring):
/// the loop tells it what arrived and what was sent, and asks what it wants next.
///
/// Input: bytes go to the session as they arrive (Session's contract: it takes requests while
/// its output has room). What it leaves is held here, and reading stops, until the output has
/// drained to Limits::low_water; then it is offered again. A CPU-bound session, when `offload`
/// is on, gets its input on a worker instead (begin_offload, run_offloaded on the worker,
/// end_offload back on the loop), one job at a time, under the same contract.
///
/// Output: the session appends to `pending_`; the pieces being sent are in `sending_`, which
/// nothing else touches, so unsent() stays valid while a write (or an io_uring SQE) uses it.
/// Reading stops once unsent output reaches Limits::high_water and resumes at low_water.
/// So a connection holds at most high_water plus one read of input, whatever its client does.
///
/// Counters: bytes, requests and their latency go to the listener's service's (RequestMeter),
/// when the model has metrics.
///
/// Not thread-safe: every call but run_offloaded() comes from the loop that owns it, and while
/// busy() the loop calls nothing that touches the session.
class Connection {
 public:
  using Clock = std::chrono::steady_clock;

  /// Logs "connected PEER"; the destructor logs "closed PEER after N requests (REASON)". `limits`
  /// and `log` (the listener's, which every connection of it shares) must outlive it.
  Connection(net::Socket socket, std::string peer, std::unique_ptr<Session> session, const Limits& limits,
             bool producer, bool offload, const ModelLog& log, Ticket ticket);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  int fd() const noexcept { return socket_.fd(); }
  const std::string& peer() const noexcept { return peer_; }
  /// Its service's limits: the timeouts the loop holds it to.
  const Limits& limits() const noexcept { return limits_; }

  /// Calls Session::open (daytime answers here, chargen starts producing).
  void open();
  /// Bytes from the client: to the session now, or held (output full, or a worker's turn).
  void deliver(net::ConstBytes bytes);
  /// The client half-closed (EOF). The session hears of it once it has taken every byte.
  void input_ended();
  /// The socket failed (reset, error) or must go now: drops unsent output; finished() soon.
  void fail() noexcept;
  /// Why the connection ends (for the "closed" line): idle, server stopping, an error. The first
  /// reason given wins; without one it is "peer closed" or "session closed".
  void set_close_reason(std::string reason);

  /// The next piece to send (bytes or a file range); valid until the next sent() or fail().
  Output::Piece unsent() const noexcept { return sending_.front(); }
  /// `n` bytes of unsent() went out. Below low water, held input is offered again; producers
  /// are asked for more once everything is sent.
  void sent(std::size_t n);
  std::size_t unsent_size() const noexcept { return sending_.size() + pending_.size(); }

  /// Readiness models: reads what the socket has into `scratch` and delivers it, until the
  /// socket would block or the connection stops wanting input. Errors fail the connection.
  void read_ready(std::span<std::byte> scratch);
  /// Readiness models: sends until the socket would block or nothing is left. File ranges go
  /// with sendfile(), which needs the loop's thread to block SIGPIPE (run_loops does).
  void write_ready();

  /// Reading is allowed: no EOF yet, not closing, output below high water (or back to low
  /// water), no input held beyond one read; or lingering (read and thrown away).
  bool wants_input() const noexcept;
  bool wants_output() const noexcept { return !failed_ && unsent_size() > 0; }
  /// Nothing more will happen: the loop closes (destroys) it. Never true while busy().
  bool finished() const noexcept;

  /// A CPU-bound session has held input (or EOF) to work on, room for output, and no job running.
  bool offload_ready() const noexcept;
  bool busy() const noexcept { return busy_; }
  /// Loop thread: moves the held input to the job; busy() from now on.
  void begin_offload();
  /// Worker thread: runs the session on the job's input.
  void run_offloaded() noexcept;
  /// Loop thread: takes the job's output and verdict, and holds again what it did not take.
  void end_offload();

  /// When the connection must be done with what it is doing, if it has such a deadline: the
  /// request the session is in the middle of (Limits::request_timeout), while the connection
  /// still waits for its client; or the lingering close.
  std::optional<Clock::time_point> deadline() const noexcept;
  /// The deadline passed. A request's: the session answers its error, and the connection closes
  /// once that is sent. A lingering close's: it closes now.
  void deadline_passed();

  /// When this connection last made progress (for idle timeouts). The loop marks it, with the
  /// time it woke up: one clock read per wake-up rather than several per request.
  Clock::time_point last_active() const noexcept { return last_active_; }
  void touch(Clock::time_point now) noexcept { last_active_ = now; }

 private:
  /// Runs one session call; an exception fails the connection instead of the server.
  template <typename Call>
  void drive(Call&& call);
  /// Offers `in` to the session; returns how many bytes it took (all of them once closing).
  std::size_t offer(net::ConstBytes in);
  void offer_held();
  /// The session left input with room for output: a broken contract, so the connection ends.
  void stalled(std::size_t taken, std::size_t offered);
  /// After output was added or sent: pause or resume input, hand on what waited.
  void settle();
  /// Everything is sent and the session closed while its client may still be sending (it closed
  /// while taking requests, or input waits unread): shuts our side and reads until EOF
  /// (Limits::linger).
  void linger_if_sending();
  void abort_on_close() noexcept;
  void tell_end_of_input();
  void apply(Verdict verdict);
  void report_complaints();
  void refill();
  /// After the session took input: when its current request began, if it is in one.
  void note_request() noexcept;
  std::size_t budget() const noexcept;

  net::Socket socket_;
  std::string peer_;
  std::unique_ptr<Session> session_;
  const Limits& limits_;
  bool producer_;
  bool offloaded_;  // a CPU-bound session, run on workers
  const ModelLog& log_;
  Ticket ticket_;  // its places (Admission), given back when it closes
  RequestMeter meter_;

  Output pending_;  // the session appends here (loop thread)
  Output sending_;  // being sent
  std::vector<std::byte> held_;  // input the session has not taken yet

  // The job handed to a worker; only the worker touches it while busy_. Only CPU-bound
  // sessions have one.
  struct Job {
    std::vector<std::byte> input;
    std::size_t taken = 0;
    Output output;
    bool eof = false;  // tell end_of_input() once the input is taken
    Clock::time_point began;  // of the first request in the input (RequestMeter)
    Verdict verdict = Verdict::keep_going;
    std::string error;
  };
  std::unique_ptr<Job> job_;

  bool busy_ = false;
  bool paused_ = false;      // output reached high water: no input until it drains to low water
  bool eof_ = false;         // the client half-closed
  bool eof_told_ = false;    // ... and the session has heard of it
  bool closing_ = false;     // the session said close: flush, then finish
  bool reading_when_closed_ = false;  // ... while taking its client's requests: more may come
  bool lingering_ = false;   // everything sent, our side shut: reading and throwing away until EOF
  bool failed_ = false;
  std::unique_ptr<std::string> close_reason_;  // most connections never get one: 8 bytes, not 32
  Clock::time_point last_active_ = Clock::now();
  static constexpr Clock::time_point kNoRequest = Clock::time_point::max();
  // The session is in the middle of a request since; while lingering, when lingering began.
  Clock::time_point request_began_ = kNoRequest;
};

}  // namespace sockit::serve::models
