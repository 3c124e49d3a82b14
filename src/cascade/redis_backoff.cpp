#include "cascade/redis_backoff.hpp"

#include <algorithm>

namespace sockit::cascade {

RedisBackoff::RedisBackoff(std::chrono::milliseconds first, std::chrono::milliseconds longest) noexcept
    : first_(first), longest_(std::max(first, longest)), interval_(first) {}

RedisBackoff::Turn RedisBackoff::turn(Clock::time_point now) {
  if (!down_since_) return Turn::go;
  if (probing_ || now < retry_at_) return Turn::wait;
  probing_ = true;
  return Turn::probe;
}

std::optional<RedisBackoff::Clock::duration> RedisBackoff::succeeded(Clock::time_point now) {
  probing_ = false;
  interval_ = first_;
  if (!down_since_) return std::nullopt;
  const auto outage = now - *down_since_;
  down_since_.reset();
  return outage;
}

bool RedisBackoff::failed(Clock::time_point now, bool probe) {
  const bool starts = !down_since_;
  if (starts) {
    down_since_ = now;
    interval_ = first_;
  } else if (probe) {
    probing_ = false;
    interval_ = std::min(interval_ * 2, longest_);
  } else {
    return false;  // a try that began before the outage did: the wait already runs
  }
  retry_at_ = now + interval_;
  return starts;
}

RedisBackoff::Clock::duration RedisBackoff::retry_in(Clock::time_point now) const noexcept {
  if (!down_since_ || probing_ || now >= retry_at_) return Clock::duration::zero();
  return retry_at_ - now;
}

RedisBackoff::Clock::duration RedisBackoff::down_for(Clock::time_point now) const noexcept {
  return down_since_ ? now - *down_since_ : Clock::duration::zero();
}

}  // namespace sockit::cascade
