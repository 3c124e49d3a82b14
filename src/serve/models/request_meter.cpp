#include "serve/models/request_meter.hpp"

namespace sockit::serve::models {

void RequestMeter::answered(std::size_t requests, Clock::time_point began, std::size_t unsent) noexcept {
  if (!state_ || requests <= state_->requests) return;
  auto& s = *state_;
  const std::uint64_t fresh = requests - s.requests;
  s.requests = requests;
  s.counters->requests(fresh);
  if (unsent == 0) {  // nothing to send (discard): done now
    s.counters->latency(Clock::now() - began, fresh);
    return;
  }
  const Mark mark{s.sent + unsent, began, fresh};
  if (s.marks_in_use < s.marks.size()) {
    s.marks[s.marks_in_use++] = mark;
  } else {
    s.marks.back().end = mark.end;
    s.marks.back().requests += fresh;
  }
}

void RequestMeter::counted(std::size_t requests) noexcept {
  if (!state_ || requests <= state_->requests) return;
  state_->counters->requests(requests - state_->requests);
  state_->requests = requests;
}

void RequestMeter::sent(std::size_t bytes) noexcept {
  if (!state_) return;
  state_->counters->sent(bytes);
  state_->sent += bytes;
  if (state_->marks_in_use > 0 && state_->sent >= state_->marks[0].end) finish_marks();
}

void RequestMeter::finish_marks() noexcept {
  auto& s = *state_;
  const auto now = Clock::now();
  while (s.marks_in_use > 0 && s.sent >= s.marks[0].end) {
    s.counters->latency(now - s.marks[0].began, s.marks[0].requests);
    s.marks[0] = s.marks[1];
    --s.marks_in_use;
  }
}

}  // namespace sockit::serve::models
