// The io_uring model (liburing): completion-based rather than readiness-based. One ring per
// thread (ModelOptions::threads, default one per core), every ring on every listener.
//
// - accept: one multishot accept per ring keeps producing connections (re-armed when the kernel
//   ends it, e.g. after EMFILE);
// - recv: one multishot recv per connection while it wants input, into a provided-buffer ring:
//   the kernel picks a buffer when data arrives, so a thousand idle connections pin no buffer
//   at all, and the recv stays armed across requests instead of being submitted (and polled
//   for) again each time. Back-pressure cancels it; it is armed again once the output drained.
//   The buffer goes back to the ring as soon as the session has seen the bytes. Kernels older
//   than 6.0 refuse multishot recv: then every recv is a single one;
// - send: one at a time per connection from Connection::unsent(), which nothing moves while the
//   SQE is in flight. A file range goes with sendfile(2) called from the loop (the socket is
//   non-blocking, so it never waits): zero-copy, with no pipe per connection as IORING_OP_SPLICE
//   would need; when the socket is full, a POLLOUT poll says when to go on;
// - a connection is freed only when none of its operations is in flight; to end one early, the
//   socket is shut down, which completes its pending recv.
//
// The ring is created disabled, single-issuer and with deferred task work where the kernel has
// them (6.1): completions are then processed only when the loop asks for them, in its own
// thread, instead of interrupting it. The loop's thread enables the ring.
//
// The user_data of each SQE is an Entry pointer with the operation in its low bits.
#include <liburing.h>
#include <fmt/core.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <list>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "net/error.hpp"
#include "serve/connection_log.hpp"
#include "serve/models/acceptor.hpp"
#include "serve/models/connection.hpp"
#include "serve/models/connection_table.hpp"
#include "serve/models/models.hpp"
#include "serve/models/offload.hpp"
#include "serve/models/reactor.hpp"

namespace sockit::serve::models {
namespace {

using Clock = Connection::Clock;
using std::chrono::milliseconds;

constexpr unsigned kRingEntries = 512;
constexpr unsigned kBuffers = 128;  // a power of two (the buffer ring is indexed with a mask)
constexpr unsigned kBufferBytes = 16 * 1024;
constexpr int kBufferGroup = 0;
constexpr int kFileSendsPerTurn = 16;

// kStop: a poll on the stop signal's drain_fd(), then (a drain that may become a stop) on its fd().
enum Op : std::uint64_t { kAccept = 1, kStop = 2, kWake = 3, kRecv = 4, kSend = 5, kWritable = 6, kIgnored = 7 };
constexpr std::uint64_t kOpMask = 7;
constexpr int kOpBits = 3;  // an accept carries its door's index above them

net::Error uring_error(std::string_view call, int negative_errno) { return net::errno_error(call, "", -negative_errno); }

struct Entry {
  template <typename... Args>
  explicit Entry(Args&&... args) : connection(std::forward<Args>(args)...) {}
  Connection connection;
  bool recv_pending = false;
  bool recv_cancelled = false;  // back-pressure asked the kernel to end the multishot recv
  bool send_pending = false;  // a send, or a poll for room to sendfile() more
  bool starved = false;  // a recv found no provided buffer: ask again next turn
  bool shut = false;
  std::list<Entry>::iterator self;
};
static_assert(alignof(Entry) >= 8, "low bits of Entry* carry the operation");

/// The ring's provided buffers: page-aligned ring memory shared with the kernel, plus the data.
class BufferRing {
 public:
  explicit BufferRing(io_uring& ring) : data_(std::size_t{kBuffers} * kBufferBytes) {
    const std::size_t bytes = kBuffers * sizeof(io_uring_buf);
    void* memory = std::aligned_alloc(4096, (bytes + 4095) / 4096 * 4096);
    if (!memory) throw net::errno_error("aligned_alloc", "", ENOMEM);
    buffers_ = static_cast<io_uring_buf_ring*>(memory);
    io_uring_buf_ring_init(buffers_);
    io_uring_buf_reg registration{};
    registration.ring_addr = reinterpret_cast<std::uintptr_t>(buffers_);
    registration.ring_entries = kBuffers;
    registration.bgid = kBufferGroup;
    if (int rc = io_uring_register_buf_ring(&ring, &registration, 0); rc < 0) {
      std::free(buffers_);
      throw uring_error("io_uring_register_buf_ring", rc);
    }
    for (unsigned id = 0; id < kBuffers; ++id) give_back(static_cast<unsigned short>(id));
  }
  /// Call after io_uring_queue_exit(): the ring's teardown unregisters the buffers.
  ~BufferRing() { std::free(buffers_); }
  BufferRing(const BufferRing&) = delete;
  BufferRing& operator=(const BufferRing&) = delete;

  std::span<std::byte> buffer(unsigned short id) {
    return std::span(data_).subspan(std::size_t{id} * kBufferBytes, kBufferBytes);
  }
  void give_back(unsigned short id) {
    io_uring_buf_ring_add(buffers_, buffer(id).data(), kBufferBytes, id, io_uring_buf_ring_mask(kBuffers), 0);
    io_uring_buf_ring_advance(buffers_, 1);
  }

 private:
  io_uring_buf_ring* buffers_ = nullptr;
  std::vector<std::byte> data_;
};

class Ring {
 public:
  explicit Ring(ReactorShared& shared)
      : shared_(shared),
        doors_(open_doors(shared)),
        entries_(shared.limits),
        accept_armed_(doors_.size(), false),
        accepting_(shared.stop) {
    int rc = io_uring_queue_init(kRingEntries, &ring_,
                                 IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_R_DISABLED);
    disabled_ = rc == 0;
    if (rc == -EINVAL) rc = io_uring_queue_init(kRingEntries, &ring_, 0);  // before Linux 6.1
    if (rc < 0) throw uring_error("io_uring_queue_init", rc);
    try {
      buffers_.emplace(ring_);
    } catch (...) {
      io_uring_queue_exit(&ring_);
      throw;
    }
  }
  ~Ring() {
    // Only when run() threw: a connection on a worker must outlive its job.
    while (entries_.any_busy()) {
      completions_.wait();
      for (const auto tag : completions_.take()) reinterpret_cast<Entry*>(tag)->connection.end_offload();
    }
    io_uring_queue_exit(&ring_);  // cancels what is in flight before buffers and entries go
    buffers_.reset();
  }
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  void run();

 private:
  io_uring_sqe* sqe();
  void arm_accept(std::size_t door);
  void arm_every_accept();
  void cancel_every_accept();
  void arm_poll(int fd, Op op);
  void on_accept(std::size_t door, int result, unsigned flags);
  void on_recv(Entry& entry, int result, unsigned flags);
  void on_send(Entry& entry, int result);
  void on_writable(Entry& entry, int result);
  void send_files(Entry& entry);
  void finish_jobs();
  bool pump(Entry& entry);
  void active(Entry& entry) { entries_.touch(entry.self, woke_); }
  std::optional<Clock::time_point> next_timer() const;

  ReactorShared& shared_;
  std::vector<Door> doors_;
  io_uring ring_{};
  bool disabled_ = false;  // created disabled: run() enables it in the thread that submits
  bool multishot_recv_ = true;
  std::optional<BufferRing> buffers_;
  Completions completions_;
  ConnectionTable<Entry> entries_;
  std::vector<Entry*> starved_;  // recvs to retry: the buffer ring was empty
  bool listening_ = true;
  bool stopping_ = false;  // stop was requested (not only a drain): the grace period runs
  std::vector<bool> accept_armed_;  // by door: its multishot accept is in the kernel
  std::optional<Clock::time_point> resume_accepting_;
  Clock::time_point woke_ = Clock::now();  // when the last wait returned: activity is marked with it
  StopSignal::Accepting accepting_;  // until no accept of this ring is in the kernel after a drain
};

io_uring_sqe* Ring::sqe() {
  io_uring_sqe* next = io_uring_get_sqe(&ring_);
  if (!next) {  // the submission queue is full: hand it to the kernel and take a fresh one
    io_uring_submit(&ring_);
    next = io_uring_get_sqe(&ring_);
  }
  if (!next) throw uring_error("io_uring_get_sqe", -EBUSY);
  return next;
}

void Ring::arm_accept(std::size_t door) {
  auto* s = sqe();
  io_uring_prep_multishot_accept(s, doors_[door].endpoint.listener.fd(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  io_uring_sqe_set_data64(s, (door << kOpBits) | kAccept);
  accept_armed_[door] = true;
}

void Ring::arm_every_accept() {
  for (std::size_t door = 0; door < doors_.size(); ++door)
    if (!accept_armed_[door] && !doors_[door].closed) arm_accept(door);
}

void Ring::cancel_every_accept() {
  for (std::size_t door = 0; door < doors_.size(); ++door) {
    if (!accept_armed_[door]) continue;
    auto* s = sqe();
    io_uring_prep_cancel64(s, (door << kOpBits) | kAccept, 0);
    io_uring_sqe_set_data64(s, kIgnored);
  }
}

void Ring::arm_poll(int fd, Op op) {
  auto* s = sqe();
  io_uring_prep_poll_add(s, fd, POLLIN);
  io_uring_sqe_set_data64(s, op);
}

void Ring::run() {
  if (disabled_) {
    // The system call itself: Debian's liburing 2.3 declares io_uring_enable_rings() but does
    // not export it.
    if (::syscall(__NR_io_uring_register, ring_.ring_fd, IORING_REGISTER_ENABLE_RINGS, nullptr, 0) < 0)
      throw net::errno_error("io_uring_register(IORING_REGISTER_ENABLE_RINGS)", "", errno);
    disabled_ = false;
  }
  io_uring_register_ring_fd(&ring_);  // saves a descriptor look-up per io_uring_enter; optional
  auto& stop = shared_.stop;
  arm_poll(stop.drain_fd(), kStop);
  arm_poll(completions_.fd(), kWake);
  if (!stop.draining()) arm_every_accept();  // drained before it began: never accept
  for (;;) {
    auto now = Clock::now();
    if (listening_ && stop.draining()) {
      listening_ = false;
      cancel_every_accept();
      if (!stop.requested()) arm_poll(stop.fd(), kStop);  // a drain may become a stop
    }
    if (!stopping_ && stop.requested()) {
      stopping_ = true;
      entries_.start_grace(now);
    }
    if (!listening_) {
      const bool accept_in_kernel = std::any_of(accept_armed_.begin(), accept_armed_.end(), std::identity{});
      if (!accept_in_kernel) accepting_.release();  // its cancelled accepts have come back
      entries_.end_grace(now, [&](ConnectionTable<Entry>::Iterator it) {
        it->connection.fail();  // a busy one closes when its worker comes back
        pump(*it);
      });
      if (entries_.empty() && !accept_in_kernel) return;
    }
    if (listening_ && resume_accepting_ && now >= *resume_accepting_) {
      resume_accepting_.reset();
      arm_every_accept();
    }

    io_uring_cqe* cqe = nullptr;
    __kernel_timespec timeout{};
    const auto next = next_timer();
    if (next) {
      const auto left = std::max(std::chrono::nanoseconds::zero(), *next - now);
      timeout.tv_sec = std::chrono::duration_cast<std::chrono::seconds>(left).count();
      timeout.tv_nsec = (left % std::chrono::seconds(1)).count();
    }
    const int rc = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, next ? &timeout : nullptr, nullptr);
    if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EBUSY) throw uring_error("io_uring_submit_and_wait", rc);
    woke_ = Clock::now();

    while (io_uring_peek_cqe(&ring_, &cqe) == 0) {
      const std::uint64_t data = io_uring_cqe_get_data64(cqe);
      const int result = cqe->res;
      const unsigned flags = cqe->flags;
      io_uring_cqe_seen(&ring_, cqe);
      auto* entry = reinterpret_cast<Entry*>(data & ~kOpMask);
      switch (data & kOpMask) {
        case kAccept: on_accept(data >> kOpBits, result, flags); break;
        case kStop: break;  // seen at the top of the loop
        case kWake:
          finish_jobs();
          arm_poll(completions_.fd(), kWake);
          break;
        case kRecv: on_recv(*entry, result, flags); break;
        case kSend: on_send(*entry, result); break;
        case kWritable: on_writable(*entry, result); break;
        default: break;
      }
    }
    // Recvs that found the buffer ring empty try again now that buffers went back to it.
    for (auto* entry : std::exchange(starved_, {})) {
      entry->starved = false;
      pump(*entry);
    }
    entries_.expire_idle(woke_, [&](ConnectionTable<Entry>::Iterator it) {
      if (it->shut) return false;  // already on its way out
      it->connection.fail();
      return !pump(*it);
    });
    entries_.expire_deadlines(woke_, [&](ConnectionTable<Entry>::Iterator it) { pump(*it); });
  }
}

void Ring::on_accept(std::size_t door, int result, unsigned flags) {
  if (!(flags & IORING_CQE_F_MORE)) accept_armed_[door] = false;  // the kernel ended the multishot
  if (result >= 0) {
    // Served even if stop came meanwhile: the kernel accepted it before the cancel took effect.
    auto client = Acceptor::adopt(net::Fd(result));
    if (auto ticket = admit(client, doors_[door].endpoint, doors_[door].log)) {
      auto session = open_session(doors_[door].endpoint.service, doors_[door].limits, client.peer);
      const auto it = entries_.add(std::move(client.socket), std::move(client.peer), std::move(session),
                                   doors_[door].limits, doors_[door].producer, shared_.offload, doors_[door].log,
                                   std::move(*ticket));
      auto& entry = *it;
      entry.self = it;
      entry.connection.open();
      pump(entry);
    }
  } else if (result != -ECANCELED && listening_) {
    const auto outcome = doors_[door].acceptor.failed(-result);
    if (outcome == Acceptor::Outcome::closed) {
      doors_[door].closed = true;  // a reload shut the listener down: never armed again
      return;
    }
    if (outcome == Acceptor::Outcome::paused) {
      cancel_every_accept();  // descriptors are the process's: every listener waits out the pause
      resume_accepting_ = Clock::now() + kAcceptPause;
      return;
    }
  }
  if (!accept_armed_[door] && listening_ && !resume_accepting_ && !doors_[door].closed) arm_accept(door);
}

void Ring::on_recv(Entry& entry, int result, unsigned flags) {
  // First: the session learns when these bytes came from the connection's last activity (a
  // request's start, its latency).
  active(entry);
  if (!(flags & IORING_CQE_F_MORE)) {  // this recv is over: a single one, or the multishot ended
    entry.recv_pending = false;
    entry.recv_cancelled = false;
    if (result == -EINVAL && multishot_recv_) {  // a kernel without multishot recv
      multishot_recv_ = false;
      result = -ENOBUFS;  // try again, as a single recv
    }
  }
  if (flags & IORING_CQE_F_BUFFER) {
    const auto id = static_cast<unsigned short>(flags >> IORING_CQE_BUFFER_SHIFT);
    if (result > 0) entry.connection.deliver(buffers_->buffer(id).first(static_cast<std::size_t>(result)));
    buffers_->give_back(id);  // the session has seen the bytes (and kept what it needs)
  }
  if (result == 0) {
    entry.connection.input_ended();
  } else if (result == -ENOBUFS) {
    if (!std::exchange(entry.starved, true)) starved_.push_back(&entry);
  } else if (result < 0 && result != -ECANCELED && !entry.shut) {
    entry.connection.set_close_reason(fmt::format("recv failed: {}", std::strerror(-result)));
    entry.connection.fail();
  }
  pump(entry);
}

void Ring::on_send(Entry& entry, int result) {
  entry.send_pending = false;
  if (result >= 0) {
    entry.connection.sent(static_cast<std::size_t>(result));
  } else if (!entry.shut) {
    entry.connection.set_close_reason(fmt::format("send failed: {}", std::strerror(-result)));
    entry.connection.fail();
  }
  active(entry);
  pump(entry);
}

void Ring::on_writable(Entry& entry, int result) {
  entry.send_pending = false;
  if (result < 0 && result != -ECANCELED && !entry.shut) {
    entry.connection.set_close_reason(fmt::format("poll failed: {}", std::strerror(-result)));
    entry.connection.fail();
  }
  active(entry);
  pump(entry);
}

// File ranges leave with sendfile() from here, a few calls at a time so that one connection
// cannot hold up the ring; then a POLLOUT poll brings it back.
void Ring::send_files(Entry& entry) {
  auto& connection = entry.connection;
  for (int calls = 0; calls < kFileSendsPerTurn && connection.wants_output() && connection.unsent().is_file(); ++calls) {
    auto put = send_piece(connection.fd(), connection.unsent());
    if (!put) {
      connection.set_close_reason(put.error().what());
      connection.fail();
      return;
    }
    if (!*put) return;
    connection.sent(**put);
  }
}

void Ring::finish_jobs() {
  for (const auto tag : completions_.take()) {
    auto* entry = reinterpret_cast<Entry*>(tag);
    entry->connection.end_offload();
    active(*entry);
    pump(*entry);
  }
}

// Decides what a connection needs next: a worker, a recv, a send, or the end. False when the
// entry is gone.
bool Ring::pump(Entry& entry) {
  auto& connection = entry.connection;
  if (!entry.send_pending && !entry.shut) send_files(entry);
  if (connection.offload_ready())
    shared_.workers.offload(connection, completions_, reinterpret_cast<std::uint64_t>(&entry));
  if (connection.finished()) {
    if (!entry.recv_pending && !entry.send_pending) {
      if (entry.starved) std::erase(starved_, &entry);
      entries_.erase(entry.self);  // closes the socket, logs "closed ..."
      return false;
    }
    if (!entry.shut) {
      entry.shut = true;
      // Completes the pending recv (with 0) and send (with an error): then it can be freed.
      ::shutdown(connection.fd(), SHUT_RDWR);
    }
    return true;
  }
  entries_.watch_deadline(entry.self);
  const auto tag = reinterpret_cast<std::uint64_t>(&entry);
  if (connection.wants_input() && !entry.recv_pending) {
    auto* s = sqe();
    if (multishot_recv_)
      io_uring_prep_recv_multishot(s, connection.fd(), nullptr, 0, 0);
    else
      io_uring_prep_recv(s, connection.fd(), nullptr, kBufferBytes, 0);
    s->flags |= IOSQE_BUFFER_SELECT;
    s->buf_group = kBufferGroup;
    io_uring_sqe_set_data64(s, tag | kRecv);
    entry.recv_pending = true;
  } else if (!connection.wants_input() && entry.recv_pending && !entry.recv_cancelled && multishot_recv_) {
    // Back-pressure: a multishot recv would go on reading. Bytes it already took are delivered.
    auto* s = sqe();
    io_uring_prep_cancel64(s, tag | kRecv, 0);
    io_uring_sqe_set_data64(s, kIgnored);
    entry.recv_cancelled = true;
  }
  if (connection.wants_output() && !entry.send_pending) {
    const auto piece = connection.unsent();
    auto* s = sqe();
    if (piece.is_file()) {
      io_uring_prep_poll_add(s, connection.fd(), POLLOUT);
      io_uring_sqe_set_data64(s, tag | kWritable);
    } else {
      io_uring_prep_send(s, connection.fd(), piece.bytes.data(), piece.bytes.size(),
                         MSG_NOSIGNAL | (piece.file_follows ? MSG_MORE : 0));
      io_uring_sqe_set_data64(s, tag | kSend);
    }
    entry.send_pending = true;
  }
  return true;
}

std::optional<Clock::time_point> Ring::next_timer() const {
  auto next = entries_.next_deadline();
  if (resume_accepting_ && (!next || *resume_accepting_ < *next)) next = resume_accepting_;
  return next;
}

class UringModel : public EventModel {
 public:
  explicit UringModel(const ModelOptions& options)
      : threads_(options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency())),
        offload_(options.offload),
        log_(options.log, options.metrics) {}

  std::string_view name() const noexcept override { return "uring"; }


 protected:
  void serve_all(std::span<const Endpoint> endpoints, const Limits& limits, StopSignal& stop) override {
    // The reserve-descriptor trick accepts synchronously: that accept must never block.
    make_nonblocking(endpoints);
    ReactorShared shared{endpoints, limits, stop, log_, offload_};
    std::vector<std::unique_ptr<Ring>> rings;
    for (unsigned i = 0; i < threads_; ++i) rings.push_back(std::make_unique<Ring>(shared));
    run_loops(rings, log_, "uring loop");
  }

 private:
  unsigned threads_;
  bool offload_;
  ModelLog log_;
};

}  // namespace

std::unique_ptr<Model> make_uring(const ModelOptions& options) {
  // Probe: containers and hardened kernels refuse io_uring (ENOSYS, EPERM) even when liburing
  // is installed; then this model does not exist here.
  io_uring probe{};
  if (io_uring_queue_init(8, &probe, 0) < 0) return nullptr;
  io_uring_queue_exit(&probe);
  return std::make_unique<UringModel>(options);
}

}  // namespace sockit::serve::models
