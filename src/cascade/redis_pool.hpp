#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cascade/redis_backoff.hpp"
#include "cascade/redis_connection.hpp"
#include "net/address.hpp"
#include "net/result.hpp"

namespace sockit::cascade {

/// How a tracker reaches Redis.
struct RedisSettings {
  net::Address server;
  /// Each request's whole wait on Redis (connect, command, reply) is at most this.
  std::chrono::milliseconds timeout{500};
  std::chrono::milliseconds first_retry{100};  ///< after a failure, no try for this long...
  std::chrono::milliseconds longest_retry{2000};  ///< ...doubling after each failed try up to this
  std::size_t max_idle = 16;  ///< connections kept open between requests
};

/// Connections to one Redis server for callers on many threads, and the back-off they share.
/// A caller takes an idle connection (or opens one), makes its round trip and gives it back; so
/// there are as many connections as callers at once (the engine's worker threads), of which
/// `max_idle` stay open. While Redis is down (a failed connect or round trip, by any caller),
/// every call fails at once with a message naming Redis and the reason, except one try per
/// back-off interval; the first call that gets through ends the outage. `notice` gets one line
/// when an outage starts and one when it ends. Thread-safe.
class RedisPool {
 public:
  using Notice = std::function<void(std::string_view)>;
  RedisPool(RedisSettings settings, Notice notice = {});

  /// One command; an error reply is a reply.
  net::Result<std::unique_ptr<RedisReply>> call(std::span<const std::string_view> args);
  /// One script (EVALSHA, EVAL when Redis lost it).
  net::Result<std::unique_ptr<RedisReply>> eval(const RedisScript& script, std::span<const std::string_view> keys,
                                                std::span<const std::string_view> args);

  /// "10.0.0.4:6379", "unix:/run/redis.sock"
  const std::string& server() const noexcept { return server_; }

 private:
  using RoundTrip = std::function<net::Result<std::unique_ptr<RedisReply>>(RedisConnection&, net::Deadline)>;
  net::Result<std::unique_ptr<RedisReply>> use(const RoundTrip& round_trip);
  /// An idle connection (true: reused) or a new one.
  std::pair<net::Result<RedisConnection>, bool> take(net::Deadline deadline);
  /// Records a failed round trip; returns the Error callers see.
  net::Error failed(const net::Error& error, bool probe);
  /// "Redis on SERVER failed: REASON (CALL: DETAIL; down for ...; next try in ...)". Under mutex_.
  net::Error unavailable(const net::Error& cause, RedisBackoff::Clock::time_point now) const;

  const RedisSettings settings_;
  const std::string server_;
  const Notice notice_;
  std::mutex mutex_;
  std::vector<RedisConnection> idle_;
  RedisBackoff backoff_;
  std::optional<net::Error> last_error_;  // the failure that started or continues an outage
};

}  // namespace sockit::cascade
