#include "cascade/redis_pool.hpp"

#include <fmt/core.h>

#include "serve/connection_log.hpp"

namespace sockit::cascade {
namespace {

using Clock = RedisBackoff::Clock;

long long milliseconds(Clock::duration duration) {
  return std::chrono::ceil<std::chrono::milliseconds>(duration).count();
}

std::string seconds_text(Clock::duration duration) {
  return fmt::format("{:.1f} s", std::chrono::duration<double>(duration).count());
}

}  // namespace

RedisPool::RedisPool(RedisSettings settings, Notice notice)
    : settings_(std::move(settings)),
      server_(settings_.server.to_string()),
      notice_(std::move(notice)),
      backoff_(settings_.first_retry, settings_.longest_retry) {}

net::Result<std::unique_ptr<RedisReply>> RedisPool::call(std::span<const std::string_view> args) {
  return use([&](RedisConnection& connection, net::Deadline deadline) { return connection.call(args, deadline); });
}

net::Result<std::unique_ptr<RedisReply>> RedisPool::eval(const RedisScript& script,
                                                         std::span<const std::string_view> keys,
                                                         std::span<const std::string_view> args) {
  return use([&](RedisConnection& connection, net::Deadline deadline) {
    return connection.eval(script, keys, args, deadline);
  });
}

net::Result<std::unique_ptr<RedisReply>> RedisPool::use(const RoundTrip& round_trip) {
  const auto deadline = net::Deadline::after(settings_.timeout);
  bool probe = false;
  {
    std::lock_guard lock(mutex_);
    switch (backoff_.turn(Clock::now())) {
      case RedisBackoff::Turn::go:
        break;
      case RedisBackoff::Turn::probe:
        probe = true;
        break;
      case RedisBackoff::Turn::wait:
        return unavailable(*last_error_, Clock::now());
    }
  }
  auto [connection, reused] = take(deadline);
  auto reply = connection ? round_trip(*connection, deadline) : net::Result<std::unique_ptr<RedisReply>>(connection.error());
  // A connection that sat idle may have been closed meanwhile (Redis restarted, or dropped it
  // under its `timeout`): one fresh connection, within the same deadline, tells that from a Redis
  // that is down.
  if (!reply && reused && !reply.error().timed_out()) {
    connection = RedisConnection::open(settings_.server, deadline);
    reply = connection ? round_trip(*connection, deadline) : net::Result<std::unique_ptr<RedisReply>>(connection.error());
  }
  if (!reply) return failed(reply.error(), probe);
  std::optional<Clock::duration> outage;
  {
    std::lock_guard lock(mutex_);
    outage = backoff_.succeeded(Clock::now());
    if (idle_.size() < settings_.max_idle) idle_.push_back(std::move(*connection));
  }
  if (outage && notice_) notice_(fmt::format("Redis at {} is back after {}", server_, seconds_text(*outage)));
  return reply;
}

std::pair<net::Result<RedisConnection>, bool> RedisPool::take(net::Deadline deadline) {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      auto connection = std::move(idle_.back());
      idle_.pop_back();
      return {std::move(connection), true};
    }
  }
  return {RedisConnection::open(settings_.server, deadline), false};
}

net::Error RedisPool::failed(const net::Error& error, bool probe) {
  const auto now = Clock::now();
  bool starts = false;
  net::Error answer = error;
  {
    std::lock_guard lock(mutex_);
    // Whatever broke this round trip (Redis restarted, the network went) most likely broke the
    // idle connections too: each would cost its next user a failure, and a probe its turn.
    idle_.clear();
    starts = backoff_.failed(now, probe);
    last_error_ = error;
    answer = unavailable(error, now);
  }
  if (starts && notice_)
    notice_(fmt::format("{}; the tracker answers status 1 until Redis is back, trying again after {} to {}",
                        answer.what(), serve::duration_text(settings_.first_retry.count()),
                        serve::duration_text(settings_.longest_retry.count())));
  return answer;
}

net::Error RedisPool::unavailable(const net::Error& cause, Clock::time_point now) const {
  std::string detail = cause.call();
  if (!cause.detail().empty()) detail += ": " + cause.detail();
  if (const auto down = backoff_.down_for(now); down >= std::chrono::seconds(1))
    detail += "; down for " + seconds_text(down);
  if (const auto wait = backoff_.retry_in(now); wait > Clock::duration::zero())
    detail += "; next try in " + serve::duration_text(milliseconds(wait));
  return net::Error("Redis", cause.code(), server_, std::move(detail));
}

}  // namespace sockit::cascade
