#include "serve/models/connection.hpp"

#include <fmt/core.h>

#include <exception>
#include <utility>

#include "serve/connection_log.hpp"

namespace sockit::serve::models {
namespace {

// A connection that keeps the socket readable (discard) or writable (chargen to a fast reader)
// gets this many calls per readiness event, so it cannot starve the others.
constexpr int kCallsPerEvent = 16;

}  // namespace

Connection::Connection(net::Socket socket, std::string peer, std::unique_ptr<Session> session,
                       const Limits& limits, bool producer, bool offload, ModelLog log, ConnectionSlot slot)
    : socket_(std::move(socket)),
      peer_(std::move(peer)),
      session_(std::move(session)),
      limits_(limits),
      producer_(producer),
      offloaded_(offload && session_->cpu_bound()),
      log_(log),
      slot_(std::move(slot)) {
  log_.connection(connected_line(peer_));
}

Connection::~Connection() {
  std::string_view reason = close_reason_;
  if (reason.empty()) reason = eof_ ? "peer closed" : closing_ ? "session closed" : "";
  log_.connection(closed_line(peer_, session_->requests(), reason));
}

void Connection::set_close_reason(std::string reason) {
  if (close_reason_.empty()) close_reason_ = std::move(reason);
}

template <typename Call>
void Connection::drive(Call&& call) {
  try {
    apply(call());
  } catch (const std::exception& e) {
    log_.notice(fmt::format("session for {} failed: {}", peer_, e.what()));
    set_close_reason(fmt::format("session failed: {}", e.what()));
    fail();
    return;
  }
  report_complaints();
  refill();
}

void Connection::open() {
  drive([&] { return session_->open(pending_); });
}

void Connection::deliver(net::ConstBytes bytes) {
  if (failed_ || closing_ || bytes.empty()) return;  // after "close" further input is ignored
  if (offloaded_) {
    queued_.insert(queued_.end(), bytes.begin(), bytes.end());
    return;
  }
  drive([&] { return session_->receive(bytes, pending_); });
}

void Connection::input_ended() {
  if (eof_) return;
  eof_ = true;
  if (failed_ || closing_) return;
  if (offloaded_) {
    eof_queued_ = true;
    return;
  }
  drive([&] {
    const Verdict verdict = session_->end_of_input(pending_);
    // Only an endless producer has anything left to do once the client stopped sending.
    return producer_ ? verdict : Verdict::close;
  });
}

void Connection::fail() noexcept {
  failed_ = true;
  // clear() keeps the vector's memory: an io_uring send still in flight reads valid bytes.
  sending_.clear();
  pending_.clear();
  sent_ = 0;
  queued_.clear();
  eof_queued_ = false;
}

net::ConstBytes Connection::unsent() const noexcept { return sending_.bytes().subspan(sent_); }

std::size_t Connection::unsent_size() const noexcept { return sending_.size() - sent_ + pending_.size(); }

void Connection::sent(std::size_t n) {
  if (failed_) return;  // a send that was in flight when the connection failed: nothing to account
  sent_ += n;
  if (sent_ == sending_.size()) refill();
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
  if (sent_ < sending_.size()) return;
  sending_.clear();
  sent_ = 0;
  std::swap(sending_, pending_);
  // An endless producer (chargen) makes more only once everything before has been sent: its
  // output is bounded by what the client takes.
  if (sending_.empty() && producer_ && !closing_ && !failed_ && !busy_) {
    try {
      apply(session_->writable(sending_));
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
    auto put = net::try_send(fd(), unsent());
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
  return !failed_ && !eof_ && !closing_ && unsent_size() < limits_.high_water && queued_.size() < limits_.high_water;
}

bool Connection::finished() const noexcept {
  if (busy_) return false;
  if (failed_) return true;
  if (unsent_size() > 0 || !queued_.empty() || eof_queued_) return false;
  return closing_ || (eof_ && !producer_);
}

bool Connection::offload_ready() const noexcept {
  return offloaded_ && !busy_ && !failed_ && !closing_ && (!queued_.empty() || eof_queued_);
}

void Connection::begin_offload() {
  job_input_.clear();
  std::swap(job_input_, queued_);
  job_eof_ = std::exchange(eof_queued_, false);
  job_output_.clear();
  job_error_.clear();
  busy_ = true;
}

void Connection::run_offloaded() noexcept {
  try {
    Verdict verdict = Verdict::keep_going;
    if (!job_input_.empty()) verdict = session_->receive(job_input_, job_output_);
    if (verdict == Verdict::keep_going && job_eof_) {
      session_->end_of_input(job_output_);
      verdict = Verdict::close;
    }
    job_verdict_ = verdict;
  } catch (const std::exception& e) {
    job_error_ = e.what();
    if (job_error_.empty()) job_error_ = "exception";
  } catch (...) {
    job_error_ = "unknown exception";
  }
}

void Connection::end_offload() {
  busy_ = false;
  if (!job_error_.empty()) {
    log_.notice(fmt::format("session for {} failed: {}", peer_, job_error_));
    set_close_reason(fmt::format("session failed: {}", job_error_));
    fail();
    return;
  }
  if (failed_) return;  // the client went away while the worker ran
  if (pending_.empty())
    std::swap(pending_, job_output_);
  else
    pending_.append(job_output_.bytes());
  job_output_.clear();
  apply(job_verdict_);
  if (closing_) {
    queued_.clear();
    eof_queued_ = false;
  }
  report_complaints();
  refill();
}

}  // namespace sockit::serve::models
