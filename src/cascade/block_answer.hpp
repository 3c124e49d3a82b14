#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "cascade/protocol.hpp"

namespace sockit::cascade {

/// One complete answer of the block protocol.
struct BlockAnswer {
  std::uint8_t status = 0;
  std::span<const std::byte> body;  ///< valid until the parser is given more bytes
  bool stray = false;               ///< the course peer's status-4 message that answers no request
};

/// Why a stream of answers cannot be read on: the connection must close.
struct BadAnswer {
  enum class Kind {
    wrong_block_length,  ///< status 0 with a length other than the requested block's
    message_too_long,    ///< a non-zero status with a message above the bound
    unrequested,         ///< an answer (other than one stray status-4 message) to no request
  };
  Kind kind;
  std::string message;
};

/// What the bytes so far make: wait for more, a whole answer, or what is wrong.
using AnswerStep = std::variant<NeedMore, BlockAnswer, BadAnswer>;

/// Reads the answers of one block-protocol connection (cascade-protocol.md §3: status u8,
/// length u64, then the body) from bytes split anywhere. Free of I/O: a connection receives
/// straight into space() and calls commit(), a test feeds bytes with feed().
///
/// Lengths are checked as soon as the header is complete, before any memory is committed for
/// the body: status 0 must carry exactly the length of the block the oldest request in flight
/// asks for, any other status at most `max_message` bytes; with no request in flight only one
/// stray status-4 message (bounded too) is tolerated, the one the course peer sends after a
/// close. So a parser holds at most one block (or one message) whatever the peer sends. After a
/// BadAnswer the stream is lost: stop feeding.
class BlockAnswerParser {
 public:
  static constexpr std::uint64_t kMaxMessage = 64 * 1024;

  explicit BlockAnswerParser(std::uint64_t max_message = kMaxMessage) : max_message_(max_message) {}

  /// Where the next bytes of the stream go: the rest of the header, or the rest of the body.
  /// Never empty while the stream is good.
  std::span<std::byte> space();
  /// `n` bytes (at most space().size()) were written at the start of space(). `expected` is the
  /// length of the block asked for by the oldest request in flight, nullopt when none is.
  AnswerStep commit(std::size_t n, std::optional<std::uint64_t> expected);

  struct Fed {
    AnswerStep step;
    std::size_t used;  ///< bytes of `in` taken: never past the end of the answer returned
  };
  /// Copies from `in` what the current answer still needs and commits it.
  Fed feed(std::span<const std::byte> in, std::optional<std::uint64_t> expected);

  /// True between answers (no byte of the next header yet).
  bool idle() const noexcept { return !in_body_ && header_got_ == 0; }
  /// Bytes held for the body being read (the memory a connection costs).
  std::size_t buffered() const noexcept { return body_.capacity(); }

 private:
  AnswerStep start_body(std::optional<std::uint64_t> expected);
  AnswerStep complete();

  std::uint64_t max_message_;
  std::array<std::byte, kBlockHeaderSize> header_{};
  std::size_t header_got_ = 0;
  bool in_body_ = false;
  bool stray_ = false;       // the body being read is the stray message
  bool stray_seen_ = false;  // one stray message is forgiven, not two
  std::uint8_t status_ = 0;
  std::vector<std::byte> body_;
  std::size_t body_got_ = 0;
};

}  // namespace sockit::cascade
