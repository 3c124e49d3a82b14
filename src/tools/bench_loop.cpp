#include "tools/bench_loop.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>

#include "net/io.hpp"
#include "net/options.hpp"

namespace sockit::tools {
namespace {

using std::chrono::nanoseconds;

constexpr auto kRetryDelay = std::chrono::milliseconds(10);
constexpr std::size_t kReadBuffer = 64 * 1024;
constexpr std::string_view kUnasked = "bytes no request asked for";

std::uint64_t key(std::size_t index, std::uint32_t generation) {
  return (std::uint64_t{generation} << 32) | index;
}

}  // namespace

BenchLoop::BenchLoop(const BenchConfig& config, const std::string& batch, net::Epoll epoll, BenchWindow window,
                     std::vector<unsigned> ids)
    : config_(config), x_(config.exchange), http_(x_.expect.mode == Expectation::Mode::http), batch_(batch),
      epoll_(std::move(epoll)), window_(window),
      depth_(x_.connection_per_request ? 1 : std::max(1u, config.pipeline)), buffer_(kReadBuffer) {
  const bool open_loop = config.rate > 0;
  const auto interval = std::chrono::duration_cast<BenchClock::duration>(
      std::chrono::duration<double>(open_loop ? config.conns / config.rate : 0.0));
  connections_.reserve(ids.size());
  for (unsigned id : ids) {
    // Spread the first requests over one interval so the connections don't fire together.
    const auto first = window.start + interval * id / std::max(1u, config.conns);
    connections_.emplace_back(x_.expect, open_loop ? Pacer::open(std::max(interval, BenchClock::duration(1)), first)
                                                   : Pacer::closed());
  }
}

void BenchLoop::run() {
  TimePoint now = BenchClock::now();
  for (std::size_t i = 0; i < connections_.size(); ++i) {
    if (x_.connection_per_request) issue(i, now);
    else open(i, now);
  }
  const auto scan_every = std::clamp<BenchClock::duration>(config_.timeout / 4, std::chrono::milliseconds(1),
                                                            std::chrono::milliseconds(50));
  TimePoint next_scan = now + scan_every;
  for (;;) {
    if (failure_) return;
    now = BenchClock::now();
    if (now >= window_.end) break;
    TimePoint wake = std::min(window_.end, next_scan);
    if (!timers_.empty()) wake = std::min(wake, timers_.top().first);
    auto ready = epoll_.wait(std::chrono::duration_cast<nanoseconds>(wake - now));
    if (!ready) {
      failure_ = ready.error();
      return;
    }
    now = BenchClock::now();
    for (const auto& event : *ready) handle(event, now);
    while (!timers_.empty() && timers_.top().first <= now) {
      const auto [when, index] = timers_.top();
      timers_.pop();
      if (connections_[index].wake_at != when) continue;  // superseded
      connections_[index].wake_at = TimePoint::min();
      wake_up(index, now);
    }
    if (now >= next_scan) {
      expire(now);
      next_scan = now + scan_every;
    }
  }
}

// Starts (`add`) or changes what connection i's socket is watched for. A refusal is ours, not
// the server's: the connection closes and the run ends with the first such error.
bool BenchLoop::watch(std::size_t i, std::uint32_t events, bool add) {
  Connection& c = connections_[i];
  const int fd = c.socket.fd();
  const auto tag = key(i, c.generation);
  auto done = add ? epoll_.add(fd, events, tag) : epoll_.modify(fd, events, tag);
  if (!done) {
    // Epoll's error names the descriptor; the target says more to whoever reads it.
    if (!failure_) failure_ = net::Error(done.error().call(), done.error().code(), config_.target.to_string());
    close(i);
    return false;
  }
  c.watching_write = (events & EPOLLOUT) != 0;
  return true;
}

void BenchLoop::open(std::size_t i, TimePoint now) {
  Connection& c = connections_[i];
  // Only started here: an event loop must not wait for the outcome, which arrives as EPOLLOUT
  // (then finish_connect() says which). A datagram socket is connected at once.
  auto started = net::start_connect(config_.target, x_.udp ? SOCK_DGRAM : SOCK_STREAM);
  if (!started) return fail(i, classify_errno(started.error().code().value()), now);
  c.socket = std::move(started->socket);
  if (!x_.udp && config_.target.is_ip()) (void)net::set_no_delay(c.socket.fd(), true);
  if (!watch(i, started->connected ? EPOLLIN : EPOLLIN | EPOLLOUT, /*add=*/true)) return;
  c.state = State::connecting;
  c.connect_started = now;
  if (started->connected) connected(i, now);
}

void BenchLoop::connected(std::size_t i, TimePoint now) {
  Connection& c = connections_[i];
  c.state = State::open;
  if (c.watching_write && !watch(i, EPOLLIN)) return;
  if (x_.connection_per_request) {
    c.unsent = x_.request.empty() ? 0 : 1;
    flush(i, now);
    return;
  }
  // Requests carried over from a connection the server ended (reopen) go first.
  c.unsent = c.in_flight.size();
  if (c.unsent > 0) {
    const std::uint32_t generation = c.generation;
    flush(i, now);
    if (c.generation != generation) return;
  }
  issue(i, now);
}

// Sends whatever requests are due, as far as the pipeline depth allows.
void BenchLoop::issue(std::size_t i, TimePoint now) {
  Connection& c = connections_[i];
  if (x_.connection_per_request) {
    if (c.state != State::closed) return;
    if (now < c.retry_at) return schedule(i, c.retry_at);
    if (auto due = c.pacer.take_due(now)) {
      c.in_flight.push(*due, now);
      open(i, now);
    } else {
      schedule(i, c.pacer.next_due());
    }
    return;
  }
  if (c.state != State::open) return;
  std::size_t added = 0;
  while (c.in_flight.size() < depth_) {
    const auto due = c.pacer.take_due(now);
    if (!due) break;
    c.in_flight.push(*due, now);
    ++added;
  }
  if (c.pacer.is_open() && c.in_flight.size() < depth_) schedule(i, c.pacer.next_due());
  if (added && !x_.request.empty()) {
    c.unsent += added;
    flush(i, now);
  }
}

void BenchLoop::flush(std::size_t i, TimePoint now) {
  Connection& c = connections_[i];
  const std::size_t size = x_.request.size();
  while (c.unsent > 0) {
    const char* from = x_.udp ? x_.request.data() : batch_.data() + c.send_offset;
    const std::size_t want = x_.udp ? size : std::min(c.unsent * size - c.send_offset, batch_.size() - c.send_offset);
    auto sent = net::try_send(c.socket.fd(), net::as_bytes({from, want}));
    if (!sent) return fail(i, classify_errno(sent.error().code().value()), now);
    if (!*sent) {
      if (!c.watching_write) watch(i, EPOLLIN | EPOLLOUT);
      return;
    }
    if (window_.measuring(now)) counters_.bytes_sent += **sent;
    if (x_.udp) {
      --c.unsent;
      continue;
    }
    c.send_offset += **sent;
    c.unsent -= c.send_offset / size;
    c.send_offset %= size;
  }
  if (c.watching_write) watch(i, EPOLLIN);
}

void BenchLoop::handle(const epoll_event& ev, TimePoint now) {
  const auto i = static_cast<std::size_t>(ev.data.u64 & 0xffffffff);
  const auto generation = static_cast<std::uint32_t>(ev.data.u64 >> 32);
  Connection& c = connections_[i];
  if (c.generation != generation || c.state == State::closed) return;  // an event of a closed socket
  if (c.state == State::connecting) {
    auto done = c.socket.finish_connect(config_.target);
    if (!done) return fail(i, classify_errno(done.error().code().value()), now);
    return connected(i, now);
  }
  if ((ev.events & EPOLLOUT) && c.unsent > 0) {
    flush(i, now);
    if (c.generation != generation) return;
  }
  if (ev.events & (EPOLLIN | EPOLLERR | EPOLLHUP)) receive(i, now);
}

// One recv per readiness (level-triggered: the loop comes back if more is waiting), more
// only while the buffer fills up: that spares the EAGAIN call that would follow.
void BenchLoop::receive(std::size_t i, TimePoint now) {
  Connection& c = connections_[i];
  const std::uint32_t generation = c.generation;
  for (int rounds = 0; rounds < 4 && c.generation == generation; ++rounds) {
    auto got = net::try_recv(c.socket.fd(), buffer_);
    if (!got) return fail(i, classify_errno(got.error().code().value()), now);
    if (!*got) return;
    if (**got == 0) return end_of_stream(i, now);
    if (window_.measuring(now)) counters_.bytes_received += **got;
    const net::ConstBytes bytes(buffer_.data(), **got);
    if (x_.udp) return datagram(i, bytes, now);
    consume(i, bytes, now);
    if (**got < buffer_.size()) return;
  }
}

void BenchLoop::consume(std::size_t i, net::ConstBytes bytes, TimePoint now) {
  Connection& c = connections_[i];
  const std::uint32_t generation = c.generation;
  while (!bytes.empty()) {
    if (c.in_flight.empty()) {
      note_wrong(kUnasked, now);
      return fail(i, ErrorKind::wrong_reply, now);
    }
    const auto step = c.matcher.feed(bytes);
    bytes = bytes.subspan(step.used);
    if (step.status == ReplyStatus::wrong) {
      note_wrong(c.matcher.why_wrong(), now);
      return fail(i, ErrorKind::wrong_reply, now);
    }
    if (step.status == ReplyStatus::matched) {
      complete(i, now);
      if (c.generation != generation) break;
    }
  }
  // Refilled once per read, not once per reply: the replies to a pipeline usually arrive
  // together, and their successors then leave in one send() (as redis-benchmark -P does).
  issue(i, now);
}

void BenchLoop::datagram(std::size_t i, net::ConstBytes bytes, TimePoint now) {
  Connection& c = connections_[i];
  if (c.in_flight.empty()) return;  // a late answer to a request that timed out
  const auto step = c.matcher.feed(bytes);
  const auto status = step.used < bytes.size() ? ReplyStatus::wrong
                      : step.status == ReplyStatus::incomplete ? c.matcher.finish()
                                                               : step.status;
  if (status != ReplyStatus::matched) return fail(i, ErrorKind::wrong_reply, now);
  complete(i, now);
  issue(i, now);
}

void BenchLoop::end_of_stream(std::size_t i, TimePoint now) {
  Connection& c = connections_[i];
  // An HTTP server may end an idle keep-alive connection (its keep-alive timeout) at any time;
  // one that never answered on it is counted, so that a server closing every connection at
  // once is not reopened in a tight loop.
  if (http_ && c.in_flight.empty() && c.answered > 0) return reopen(i, now);
  // The end of the stream ends the reply: time and daytime, an HTTP body without framing.
  if ((x_.connection_per_request || http_) && !c.in_flight.empty()) {
    if (c.matcher.finish() == ReplyStatus::matched) {
      complete(i, now);
      return issue(i, now);
    }
    if (c.matcher.progress()) note_wrong(c.matcher.why_wrong(), now);
    return fail(i, c.matcher.progress() ? ErrorKind::wrong_reply : ErrorKind::closed, now);
  }
  fail(i, ErrorKind::closed, now);
}

void BenchLoop::complete(std::size_t i, TimePoint now) {
  Connection& c = connections_[i];
  const auto latency = c.in_flight.complete(now);
  if (window_.measuring(now)) {
    ++counters_.requests;
    counters_.latency_ns.record(static_cast<std::uint64_t>(std::max<std::int64_t>(
        0, std::chrono::duration_cast<nanoseconds>(latency).count())));
    if (http_) counters_.http.record(c.matcher.http().status_code(), c.matcher.http().body_bytes());
  }
  ++c.answered;
  const bool server_ends = http_ && !c.matcher.http().keep_alive();
  c.matcher.reset();
  if (x_.connection_per_request) close(i);
  else if (server_ends) reopen(i, now);
}

// The server ends the connection after a response (Connection: close, HTTP/1.0, a body
// delimited by the close) or while idle: a new one is opened at once, and the requests that
// were pipelined behind the response are sent again on it with their intended times (GET and
// HEAD are safe to repeat). Counted, not an error.
void BenchLoop::reopen(std::size_t i, TimePoint now) {
  Connection& c = connections_[i];
  InFlight carried = std::move(c.in_flight);
  close(i);
  c.in_flight = std::move(carried);
  if (window_.measuring(now)) ++counters_.http.reconnects;
  open(i, now);
}

void BenchLoop::note_wrong(std::string_view why, TimePoint now) {
  if (counters_.first_wrong.empty() && window_.measuring(now)) counters_.first_wrong = why;
}

void BenchLoop::close(std::size_t i) {
  Connection& c = connections_[i];
  c.socket.close();  // close() also takes it out of the epoll set
  ++c.generation;
  c.state = State::closed;
  c.in_flight.clear();
  c.unsent = 0;
  c.send_offset = 0;
  c.answered = 0;
  c.watching_write = false;
  c.matcher.reset();
}

void BenchLoop::fail(std::size_t i, ErrorKind kind, TimePoint now) {
  if (window_.measuring(now)) counters_.count_error(kind);
  close(i);
  connections_[i].retry_at = now + kRetryDelay;
  schedule(i, connections_[i].retry_at);
}

void BenchLoop::wake_up(std::size_t i, TimePoint now) {
  Connection& c = connections_[i];
  if (!x_.connection_per_request && c.state == State::closed) {
    if (now >= c.retry_at) return open(i, now);
    return schedule(i, c.retry_at);
  }
  issue(i, now);
}

// At most one live timer per connection: the earliest wanted.
void BenchLoop::schedule(std::size_t i, TimePoint when) {
  Connection& c = connections_[i];
  if (c.wake_at != TimePoint::min() && c.wake_at <= when) return;
  c.wake_at = when;
  timers_.emplace(when, i);
}

void BenchLoop::expire(TimePoint now) {
  for (std::size_t i = 0; i < connections_.size(); ++i) {
    const Connection& c = connections_[i];
    const bool connect_late = c.state == State::connecting && now - c.connect_started > config_.timeout;
    const bool reply_late = c.state == State::open && !c.in_flight.empty() &&
                            now - c.in_flight.oldest().started > config_.timeout;
    if (connect_late || reply_late) fail(i, ErrorKind::timeout, now);
  }
}

}  // namespace sockit::tools
