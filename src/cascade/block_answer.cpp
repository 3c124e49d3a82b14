// The client side of cascade-protocol.md §3: answers are status (1 byte), length (u64), body.
#include "cascade/block_answer.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cstring>

#include "net/byte_order.hpp"
#include "net/text.hpp"

namespace sockit::cascade {

std::span<std::byte> BlockAnswerParser::space() {
  if (in_body_) return std::span(body_).subspan(body_got_);
  return std::span(header_).subspan(header_got_);
}

AnswerStep BlockAnswerParser::commit(std::size_t n, std::optional<std::uint64_t> expected) {
  if (in_body_) {
    body_got_ += n;
    return body_got_ == body_.size() ? complete() : AnswerStep{NeedMore{}};
  }
  header_got_ += n;
  if (header_got_ < header_.size()) return NeedMore{};
  return start_body(expected);
}

AnswerStep BlockAnswerParser::start_body(std::optional<std::uint64_t> expected) {
  status_ = std::to_integer<std::uint8_t>(header_[0]);
  const auto length = net::load_u64(header_.data() + 1);
  header_got_ = 0;
  stray_ = false;
  if (!expected) {
    // The course peer sends one status-4 message after a close; anything else answers nothing.
    if (status_ != static_cast<std::uint8_t>(BlockStatus::malformed) || stray_seen_ || length > max_message_)
      return BadAnswer{BadAnswer::Kind::unrequested,
                       fmt::format("answer (status {}, {}) to no request", status_, net::counted(length, "byte"))};
    stray_ = stray_seen_ = true;
  } else if (status_ == static_cast<std::uint8_t>(BlockStatus::ok)) {
    if (length != *expected)
      return BadAnswer{BadAnswer::Kind::wrong_block_length,
                       fmt::format("a block of {} (expected {})", net::counted(length, "byte"), *expected)};
  } else if (length > max_message_) {
    return BadAnswer{BadAnswer::Kind::message_too_long,
                     fmt::format("status {} with a {}-byte message (at most {})", status_, length, max_message_)};
  }
  // A body longer than any before gets an allocation of exactly its length, the old one freed
  // first: growing the vector would keep up to twice the longest answer (and copy the old body).
  if (length > body_.capacity()) {
    body_ = std::vector<std::byte>();
    body_.reserve(length);
  }
  body_.resize(length);
  body_got_ = 0;
  in_body_ = true;
  return length == 0 ? complete() : AnswerStep{NeedMore{}};
}

AnswerStep BlockAnswerParser::complete() {
  in_body_ = false;
  return BlockAnswer{status_, std::span<const std::byte>(body_), stray_};
}

BlockAnswerParser::Fed BlockAnswerParser::feed(std::span<const std::byte> in, std::optional<std::uint64_t> expected) {
  std::size_t used = 0;
  for (;;) {
    auto into = space();
    const auto n = std::min(into.size(), in.size() - used);
    if (n > 0) std::memcpy(into.data(), in.data() + used, n);
    used += n;
    auto step = commit(n, expected);
    if (!std::holds_alternative<NeedMore>(step) || used == in.size()) return {std::move(step), used};
  }
}

}  // namespace sockit::cascade
