#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "net/result.hpp"

struct redisReader;

namespace sockit::cascade {

/// One Redis reply (RESP2), as hiredis's reader parses it.
struct RedisReply {
  enum class Kind { string, status, error, integer, nil, array };
  Kind kind = Kind::nil;
  std::string text;        ///< string, status, error
  long long integer = 0;   ///< integer
  std::vector<std::unique_ptr<RedisReply>> elements;  ///< array (an element may be nil)

  bool is_error() const noexcept { return kind == Kind::error; }
  /// The reply's text when it is a string or a status, else nullptr.
  const std::string* string() const noexcept;
};

/// The bytes of one command (RESP's array of bulk strings), from hiredis's formatter.
std::string format_redis_command(std::span<const std::string_view> args);

/// hiredis's reply parser, bounded: bytes are fed as they arrive and a reply comes out once it
/// is whole. An array of more than `max_elements` elements is an error before anything is
/// allocated for it (hiredis 0.14 would calloc whatever length a reply declares), and so is a
/// reply whose bytes pass `max_bytes`: a reply holds at most about `max_bytes` of memory.
/// Not thread-safe; one per connection.
class RedisReplyReader {
 public:
  /// Throws std::bad_alloc when hiredis cannot make its reader.
  RedisReplyReader(std::size_t max_bytes, std::size_t max_elements);
  ~RedisReplyReader();
  RedisReplyReader(const RedisReplyReader&) = delete;
  RedisReplyReader& operator=(const RedisReplyReader&) = delete;

  /// Takes bytes that arrived. An error (protocol, over a bound) leaves the reader unusable.
  net::Result<void> feed(std::span<const std::byte> bytes);
  /// The next whole reply, or nullptr while its bytes have not all arrived.
  net::Result<std::unique_ptr<RedisReply>> next();

 private:
  friend struct RedisReplyFunctions;  // hiredis's callbacks: they check the bounds
  net::Error failure() const;

  struct Free {
    void operator()(redisReader* reader) const noexcept;
  };
  std::unique_ptr<redisReader, Free> reader_;
  std::size_t max_bytes_;
  std::size_t max_elements_;
  std::size_t fed_ = 0;  // bytes fed since the last whole reply
  std::string refusal_;  // why the reply functions refused an object
};

}  // namespace sockit::cascade
