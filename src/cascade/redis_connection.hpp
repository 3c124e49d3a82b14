#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "cascade/redis_reply.hpp"
#include "net/address.hpp"
#include "net/deadline.hpp"
#include "net/result.hpp"
#include "net/socket.hpp"

namespace sockit::cascade {

/// A Lua script for EVALSHA, with its SHA-1 (which is how Redis names a cached script).
struct RedisScript {
  explicit RedisScript(std::string source);
  std::string source;
  std::string sha1;  ///< 40 lower-case hex digits
};

/// One connection to a Redis server: a command goes out, its reply comes back, each round trip
/// within a deadline (the deadline bounds the whole round trip, not each read: a server that
/// answers one byte at a time still ends it in time). Replies are bounded (kMaxReplyBytes,
/// kMaxReplyElements). After a failed call the connection is unusable, since a late reply could
/// still come: drop it. Move-only; not thread-safe (one caller at a time).
class RedisConnection {
 public:
  static constexpr std::size_t kMaxReplyBytes = 1 << 20;
  static constexpr std::size_t kMaxReplyElements = 4096;

  /// Connects to `server` (TCP or a Unix socket) within `deadline`.
  static net::Result<RedisConnection> open(const net::Address& server, net::Deadline deadline);

  /// Sends `args` as one command and waits for its reply until `deadline`. An error reply
  /// ("-ERR ...") is a reply, not an Error: Errors are connection failures (refused, reset,
  /// closed, timed out, a reply breaking RESP or a bound).
  net::Result<std::unique_ptr<RedisReply>> call(std::span<const std::string_view> args, net::Deadline deadline);

  /// EVALSHA of `script` with `keys` and `args`; when the server does not hold the script
  /// (NOSCRIPT: restarted, or SCRIPT FLUSH), EVAL with its source, which caches it again.
  net::Result<std::unique_ptr<RedisReply>> eval(const RedisScript& script, std::span<const std::string_view> keys,
                                                std::span<const std::string_view> args, net::Deadline deadline);

 private:
  RedisConnection(net::Socket socket, std::string server);

  net::Socket socket_;
  std::string server_;  // for messages
  std::unique_ptr<RedisReplyReader> reader_;
};

}  // namespace sockit::cascade
