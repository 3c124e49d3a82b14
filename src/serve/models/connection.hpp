#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/io.hpp"
#include "net/socket.hpp"
#include "serve/log.hpp"
#include "serve/model.hpp"
#include "serve/output.hpp"
#include "serve/session.hpp"

namespace sockit::serve::models {

/// ModelOptions::log or nothing: models may run without a log (tests).
class ModelLog {
 public:
  explicit ModelLog(Log* log = nullptr) noexcept : log_(log) {}
  void notice(std::string_view message) const {
    if (log_) log_->notice(message);
  }
  void connection(std::string_view message) const {
    if (log_) log_->connection(message);
  }

 private:
  Log* log_;
};

/// One place in --max-conns, shared by every loop of a model. Move-only; gives its place back
/// when destroyed.
class ConnectionSlot {
 public:
  ConnectionSlot() = default;
  explicit ConnectionSlot(std::atomic<std::size_t>& open) noexcept : open_(&open) {}
  ConnectionSlot(ConnectionSlot&& other) noexcept : open_(std::exchange(other.open_, nullptr)) {}
  ConnectionSlot& operator=(ConnectionSlot&& other) noexcept {
    std::swap(open_, other.open_);
    return *this;
  }
  ~ConnectionSlot() {
    if (open_) open_->fetch_sub(1, std::memory_order_relaxed);
  }

 private:
  std::atomic<std::size_t>* open_ = nullptr;
};

/// One client of an event model: its socket, its session and its buffers, which live here and
/// are never copied. Knows nothing of how readiness is learnt (select, poll, epoll, io_uring):
/// the loop tells it what arrived and what was sent, and asks what it wants next.
///
/// Input: bytes are handed to the session as they arrive, except for a CPU-bound session when
/// `offload` is on: its input is queued here and handed over by the loop to a worker
/// (begin_offload, run_offloaded on the worker, end_offload back on the loop).
///
/// Output: the session appends to `pending_`; the bytes being sent are in `sending_`, which
/// nothing else touches, so unsent() stays valid while a write (or an io_uring SQE) uses it.
/// Reading stops while unsent output is at or above Limits::high_water (back-pressure).
///
/// Not thread-safe: every call but run_offloaded() comes from the loop that owns it, and while
/// busy() the loop calls nothing that touches the session.
class Connection {
 public:
  using Clock = std::chrono::steady_clock;

  /// Logs "connected PEER"; the destructor logs "closed PEER after N requests (REASON)".
  Connection(net::Socket socket, std::string peer, std::unique_ptr<Session> session, const Limits& limits,
             bool producer, bool offload, ModelLog log, ConnectionSlot slot);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  int fd() const noexcept { return socket_.fd(); }
  const std::string& peer() const noexcept { return peer_; }

  /// Calls Session::open (daytime answers here, chargen starts producing).
  void open();
  /// Bytes from the client: to the session now, or queued for a worker if it is CPU-bound.
  void deliver(net::ConstBytes bytes);
  /// The client half-closed (EOF).
  void input_ended();
  /// The socket failed (reset, error) or must go now: drops unsent output; finished() soon.
  void fail() noexcept;
  /// Why the connection ends (for the "closed" line): idle, server stopping, an error. The first
  /// reason given wins; without one it is "peer closed" or "session closed".
  void set_close_reason(std::string reason);

  /// The next bytes to send; valid until the next sent() or fail().
  net::ConstBytes unsent() const noexcept;
  /// `n` bytes of unsent() went out; producers are asked for more when everything is sent.
  void sent(std::size_t n);
  std::size_t unsent_size() const noexcept;

  /// Readiness models: reads what the socket has into `scratch` and delivers it, until the
  /// socket would block or the connection stops wanting input. Errors fail the connection.
  void read_ready(std::span<std::byte> scratch);
  /// Readiness models: sends until the socket would block or nothing is left.
  void write_ready();

  /// Reading is allowed: no EOF yet, not closing, output and queued input below high water.
  bool wants_input() const noexcept;
  bool wants_output() const noexcept { return !failed_ && unsent_size() > 0; }
  /// Nothing more will happen: the loop closes (destroys) it. Never true while busy().
  bool finished() const noexcept;

  /// A CPU-bound session has queued input (or EOF) and no job running.
  bool offload_ready() const noexcept;
  bool busy() const noexcept { return busy_; }
  /// Loop thread: moves the queued input to the job; busy() from now on.
  void begin_offload();
  /// Worker thread: runs the session on the job's input.
  void run_offloaded() noexcept;
  /// Loop thread: takes the job's output and verdict; busy() no more.
  void end_offload();

  /// When this connection last made progress (for idle timeouts). The loop marks it, with the
  /// time it woke up: one clock read per wake-up rather than several per request.
  Clock::time_point last_active() const noexcept { return last_active_; }
  void touch(Clock::time_point now) noexcept { last_active_ = now; }

 private:
  /// Runs one session call; an exception fails the connection instead of the server.
  template <typename Call>
  void drive(Call&& call);
  void apply(Verdict verdict);
  void report_complaints();
  void refill();

  net::Socket socket_;
  std::string peer_;
  std::unique_ptr<Session> session_;
  const Limits& limits_;
  bool producer_;
  bool offloaded_;  // a CPU-bound session, run on workers
  ModelLog log_;
  ConnectionSlot slot_;

  Output pending_;               // the session appends here (loop thread)
  Output sending_;               // being sent, from offset sent_
  std::size_t sent_ = 0;
  std::vector<std::byte> queued_;  // input waiting for a worker (CPU-bound sessions)

  // The job handed to a worker: only the worker touches these while busy_.
  std::vector<std::byte> job_input_;
  Output job_output_;
  bool job_eof_ = false;
  Verdict job_verdict_ = Verdict::keep_going;
  std::string job_error_;

  bool busy_ = false;
  bool eof_ = false;         // the client half-closed
  bool eof_queued_ = false;  // EOF seen but not yet told to a CPU-bound session
  bool closing_ = false;     // the session said close: flush, then finish
  bool failed_ = false;
  std::string close_reason_;
  Clock::time_point last_active_ = Clock::now();
};

}  // namespace sockit::serve::models
