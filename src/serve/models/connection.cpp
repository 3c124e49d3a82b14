#include "serve/models/connection.hpp"

#include <fmt/core.h>
#include <sys/socket.h>

#include <algorithm>
#include <exception>
#include <utility>

#include "net/options.hpp"
#include "serve/connection_log.hpp"

namespace sockit::serve::models {
namespace {

// A connection that keeps the socket readable (discard) or writable (chargen to a fast reader)
// gets this many calls per readiness event, so it cannot starve the others.
constexpr int kCallsPerEvent = 16;

// Input held while a worker runs the session (or that io_uring delivered after reading paused):
// reading stops at this much, about one read.
constexpr std::size_t kHeldMax = 64 * 1024;

}  // namespace

Connection::Connection(net::Socket socket, std::string peer, std::unique_ptr<Session> session,
                       const Limits& limits, bool producer, bool offload, const ModelLog& log,
                       Ticket ticket)
    : socket_(std::move(socket)),
      peer_(std::move(peer)),
      session_(std::move(session)),
      limits_(limits),
      producer_(producer),
      offloaded_(offload && session_->cpu_bound()),
      log_(log),
      ticket_(std::move(ticket)),
      meter_(log.counters()),
      job_(offloaded_ ? std::make_unique<Job>() : nullptr) {
  log_.connection(connected_line(peer_));
}

Connection::~Connection() {
  meter_.counted(session_->requests());
  std::string_view reason = close_reason_ ? std::string_view(*close_reason_) : "";
  if (reason.empty()) reason = eof_ ? "peer closed" : closing_ ? "session closed" : "";
  log_.connection(closed_line(peer_, session_->requests(), reason));
}

void Connection::set_close_reason(std::string reason) {
  if (!close_reason_) close_reason_ = std::make_unique<std::string>(std::move(reason));
}

template <typename Call>
void Connection::drive(Call&& call) {
  // The requests it answers began when the first byte of the one it is in came, or with this input.
  const auto began = request_began_ == kNoRequest ? last_active_ : request_began_;
  try {
    apply(call());
    meter_.answered(session_->requests(), began, unsent_size());
  } catch (const std::exception& e) {
    log_.notice(fmt::format("session for {} failed: {}", peer_, e.what()));
    set_close_reason(fmt::format("session failed: {}", e.what()));
    fail();
    return;
  }
  report_complaints();
  refill();
}

std::size_t Connection::budget() const noexcept {
  const auto sending = sending_.size();
  return sending < limits_.high_water ? limits_.high_water - sending : 0;
}

void Connection::open() {
  pending_.set_budget(budget());
  drive([&] { return session_->open(pending_); });
  settle();
}

std::size_t Connection::offer(net::ConstBytes in) {
  pending_.set_budget(budget());
  Taken taken{in.size()};
  drive([&] {
    taken = session_->receive(in, pending_);
    return taken.verdict;
  });
  if (closing_) reading_when_closed_ = true;
  if (failed_ || closing_) return in.size();  // after "close" further input is ignored
  note_request();
  taken.bytes = std::min(taken.bytes, in.size());
  if (taken.bytes < in.size() && unsent_size() < limits_.high_water) {
    stalled(taken.bytes, in.size());
    return in.size();
  }
  return taken.bytes;
}

void Connection::stalled(std::size_t taken, std::size_t offered) {
  // It would wait for room it already has: nothing would ever offer these bytes again.
  log_.notice(fmt::format("session for {} took {} of {} bytes with room for more output", peer_, taken, offered));
  set_close_reason("session stopped taking input");
  fail();
}

void Connection::deliver(net::ConstBytes bytes) {
  meter_.received(bytes.size());
  if (failed_ || closing_ || bytes.empty()) return;
  if (held_.empty() && !offloaded_ && !paused_) {
    // The common case: straight from the read buffer to the session, no copy.
    const auto taken = offer(bytes);
    if (taken < bytes.size()) held_.assign(bytes.begin() + static_cast<std::ptrdiff_t>(taken), bytes.end());
  } else {
    held_.insert(held_.end(), bytes.begin(), bytes.end());
  }
  settle();
}

void Connection::offer_held() {
  const auto taken = offer(held_);
  if (taken == held_.size() || failed_ || closing_)
    std::vector<std::byte>().swap(held_);  // an idle connection keeps no buffer
  else
    held_.erase(held_.begin(), held_.begin() + static_cast<std::ptrdiff_t>(taken));
}

void Connection::settle() {
  auto update_pause = [&] {
    const auto unsent = unsent_size();
    if (unsent >= limits_.high_water) paused_ = true;
    else if (unsent <= limits_.low_water) paused_ = false;
  };
  update_pause();
  if (failed_ || closing_) {
    held_.clear();
    return;
  }
  if (offloaded_) return;  // a worker's job takes the held input
  if (!paused_ && !held_.empty()) {
    offer_held();
    update_pause();
  }
  if (eof_ && !eof_told_ && !paused_ && held_.empty()) tell_end_of_input();
}

void Connection::tell_end_of_input() {
  eof_told_ = true;
  pending_.set_budget(budget());
  drive([&] {
    const Verdict verdict = session_->end_of_input(pending_);
    // Only an endless producer has anything left to do once the client stopped sending.
    return producer_ ? verdict : Verdict::close;
  });
}

void Connection::note_request() noexcept {
  if (!session_->mid_request())
    request_began_ = kNoRequest;
  else if (request_began_ == kNoRequest)
    request_began_ = last_active_;  // the loop's wake-up time, when these bytes came
}

std::optional<Connection::Clock::time_point> Connection::deadline() const noexcept {
  if (lingering_) return request_began_ + limits_.linger;
  const auto timeout = limits_.request_timeout;
  if (request_began_ == kNoRequest || timeout <= std::chrono::milliseconds::zero() || busy_ || failed_ || closing_)
    return {};
  return request_began_ + timeout;
}

void Connection::deadline_passed() {
  if (lingering_) {
    set_close_reason("still sending after " + duration_text(limits_.linger.count()) + " of lingering close");
    abort_on_close();
    fail();
    return;
  }
  if (busy_ || failed_ || closing_) return;
  const auto problem = "request not complete within " + duration_text(limits_.request_timeout.count());
  set_close_reason(problem);
  held_.clear();
  reading_when_closed_ = true;  // the client was in the middle of a request: more of it may come
  pending_.set_budget(budget());
  drive([&] {
    session_->request_timed_out(problem, pending_);
    return Verdict::close;
  });
  settle();
}

void Connection::input_ended() {
  if (eof_) return;
  eof_ = true;
  settle();
}

void Connection::fail() noexcept {
  failed_ = true;
  meter_.abandon();
  // clear() keeps the memory: an io_uring send still in flight reads valid bytes.
  sending_.clear();
  pending_.clear();
  held_.clear();
}

void Connection::sent(std::size_t n) {
  meter_.sent(n);
  if (failed_) return;  // a send that was in flight when the connection failed: nothing to account
  sending_.consume(n);
  refill();
  settle();
  linger_if_sending();
  // Everything went out and the client has the word: a keep-alive connection may now sit idle
  // for minutes, so it keeps no buffer (a response head, a file range's block) meanwhile.
  if (unsent_size() == 0 && held_.empty() && !producer_) {
    sending_.release();
    pending_.release();
  }
}

// A client still sending when we give up on it learns at once: close() resets. A plain close
// may not: once uring's shutdown(SHUT_RD) has drained the queue, the kernel no longer opens the
// window, and the client can send into a closed one until FIN_WAIT2 times out (60 s).
void Connection::abort_on_close() noexcept { (void)net::set_linger(fd(), std::chrono::seconds(0)); }

void Connection::linger_if_sending() {
  if (!closing_ || lingering_ || eof_ || unsent_size() > 0) return;
  if (!reading_when_closed_ && !net::unread_bytes(fd())) return;
  if (limits_.linger <= std::chrono::milliseconds::zero() || ::shutdown(fd(), SHUT_WR) != 0) return;
  lingering_ = true;
  request_began_ = last_active_;
}

void Connection::apply(Verdict verdict) {
  if (verdict == Verdict::close) closing_ = true;
}

void Connection::report_complaints() {
  auto& complaints = session_->complaints();
  for (const auto& complaint : complaints) log_.connection(fmt::format("{}: {}", peer_, complaint));
  complaints.clear();
}

void Connection::refill() {
  if (!sending_.empty()) return;
  if (!pending_.empty()) sending_.splice(pending_);
  // An endless producer (chargen) makes more only once everything before has been sent: its
  // output is bounded by what the client takes.
  if (sending_.empty() && producer_ && !closing_ && !failed_ && !busy_) {
    try {
      apply(session_->writable(sending_));
      meter_.counted(session_->requests());
    } catch (const std::exception& e) {
      log_.notice(fmt::format("session for {} failed: {}", peer_, e.what()));
      set_close_reason(fmt::format("session failed: {}", e.what()));
      fail();
    }
  }
}

void Connection::read_ready(std::span<std::byte> scratch) {
  for (int calls = 0; calls < kCallsPerEvent && wants_input(); ++calls) {
    auto got = net::try_recv(fd(), scratch);
    if (!got) {
      set_close_reason(got.error().what());
      fail();
      return;
    }
    if (!*got) return;
    if (**got == 0) {
      input_ended();
      return;
    }
    deliver(scratch.first(**got));
    if (**got < scratch.size()) return;  // the socket is drained; level-triggered loops come back
  }
}

void Connection::write_ready() {
  for (int calls = 0; calls < kCallsPerEvent && wants_output(); ++calls) {
    auto put = send_piece(fd(), unsent());
    if (!put) {
      set_close_reason(put.error().what());
      fail();
      return;
    }
    if (!*put) return;
    sent(**put);
  }
}

bool Connection::wants_input() const noexcept {
  if (failed_ || eof_) return false;
  return lingering_ || (!closing_ && !paused_ && held_.size() < kHeldMax);
}

bool Connection::finished() const noexcept {
  if (busy_) return false;
  if (failed_) return true;
  return closing_ && unsent_size() == 0 && (!lingering_ || eof_);
}

bool Connection::offload_ready() const noexcept {
  return offloaded_ && !busy_ && !failed_ && !closing_ && !paused_ && (!held_.empty() || (eof_ && !eof_told_));
}

void Connection::begin_offload() {
  auto& job = *job_;
  job.input.clear();
  std::swap(job.input, held_);
  job.taken = 0;
  job.eof = eof_ && !eof_told_;
  job.began = request_began_ == kNoRequest ? last_active_ : request_began_;
  job.output.clear();
  job.output.set_budget(budget() > pending_.size() ? budget() - pending_.size() : 0);
  job.error.clear();
  busy_ = true;
}

void Connection::run_offloaded() noexcept {
  auto& job = *job_;
  try {
    Verdict verdict = Verdict::keep_going;
    job.taken = job.input.size();
    if (!job.input.empty()) {
      const auto taken = session_->receive(job.input, job.output);
      job.taken = std::min(taken.bytes, job.input.size());
      verdict = taken.verdict;
    }
    if (verdict == Verdict::keep_going && job.eof && job.taken == job.input.size()) {
      session_->end_of_input(job.output);
      verdict = Verdict::close;
    } else {
      job.eof = false;  // not told: it still has requests to take first
    }
    job.verdict = verdict;
  } catch (const std::exception& e) {
    job.error = e.what();
    if (job.error.empty()) job.error = "exception";
  } catch (...) {
    job.error = "unknown exception";
  }
}

void Connection::end_offload() {
  auto& job = *job_;
  busy_ = false;
  if (!job.error.empty()) {
    log_.notice(fmt::format("session for {} failed: {}", peer_, job.error));
    set_close_reason(fmt::format("session failed: {}", job.error));
    fail();
    return;
  }
  if (failed_) return;  // the client went away while the worker ran
  if (job.eof) eof_told_ = true;
  if (job.verdict == Verdict::keep_going && job.taken < job.input.size()) {
    if (!job.output.full()) return stalled(job.taken, job.input.size());
    // What it left goes back in front of what arrived meanwhile.
    held_.insert(held_.begin(), job.input.begin() + static_cast<std::ptrdiff_t>(job.taken), job.input.end());
  }
  pending_.splice(job.output);
  meter_.answered(session_->requests(), job.began, unsent_size());
  apply(job.verdict);
  note_request();
  report_complaints();
  refill();
  settle();
}

}  // namespace sockit::serve::models
