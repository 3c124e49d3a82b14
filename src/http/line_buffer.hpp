#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sockit::http {

/// One line that may arrive in pieces (RFC 9112 2.2: CRLF or a bare LF ends it), collected up to
/// a bound and no further: a line that cannot fit is refused before it is kept.
class LineBuffer {
 public:
  enum class State { partial, complete, too_long };
  struct Taken {
    std::size_t consumed = 0;
    State state = State::partial;
  };

  /// Takes bytes from the front of `in` up to and including the first LF, if the whole line with
  /// its line end fits in `max_raw` bytes. complete: line() is the line without its LF and
  /// without one CR before it. too_long: more than `max_raw` bytes would be needed, known from
  /// the first `consumed` bytes. partial: all of `in` was taken and the line goes on.
  Taken take(std::string_view in, std::size_t max_raw);
  /// The complete line (after take() said so), without its line end.
  std::string_view line() const noexcept { return line_; }
  /// How many bytes the complete line took, line end included.
  std::size_t raw_size() const noexcept { return raw_size_; }
  /// Whether part of a line is held.
  bool holds_partial() const noexcept { return !complete_ && !line_.empty(); }
  /// Forgets the line; the next take() starts a new one.
  void clear() noexcept;

 private:
  std::string line_;
  std::size_t raw_size_ = 0;
  bool complete_ = false;
};

}  // namespace sockit::http
