#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "net/io.hpp"

namespace sockit::net {

/// Which bytes end a line: '\n', or also '\0' (the notes' fib client ends requests with either).
enum class LineEnd { newline, newline_or_nul };

/// A buffered reader over a borrowed descriptor, in the spirit of the notes' RIO package: reads
/// large chunks, hands them out as lines or exact counts. Every call blocks up to `deadline`.
class Reader {
 public:
  explicit Reader(int fd, std::size_t buffer_size = 16 * 1024);

  /// The next line without its terminator, or nullopt at EOF before any byte of a line. A last
  /// line without terminator is returned as it is. A line longer than `max` bytes is an error
  /// naming the limit; the bytes of it read so far are dropped.
  Result<std::optional<std::string>> read_line(std::size_t max, LineEnd ends = LineEnd::newline,
                                               Deadline deadline = Deadline::never());
  /// Exactly buffer.size() bytes; EOF first is an error saying how many arrived.
  Result<void> read_exact(MutableBytes buffer, Deadline deadline = Deadline::never());
  /// Whatever is buffered, or else whatever one recv brings; 0 means EOF.
  Result<std::size_t> read_some(MutableBytes buffer, Deadline deadline = Deadline::never());

  /// Bytes received but not yet handed out.
  std::size_t buffered() const noexcept { return end_ - begin_; }

 private:
  Result<std::size_t> fill(Deadline deadline);
  std::size_t take(MutableBytes out) noexcept;

  int fd_;
  std::vector<std::byte> buffer_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace sockit::net
