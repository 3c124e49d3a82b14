#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "net/fd.hpp"
#include "net/io.hpp"
#include "net/result.hpp"

namespace sockit::serve {

/// A stretch of an open file to send. The descriptor is shared: the range may still be waiting
/// in a connection's output after the session (or the whole file table) let go of the file.
struct FileRange {
  std::shared_ptr<const net::Fd> file;
  std::uint64_t offset = 0;
  std::size_t length = 0;
};

/// What a session wants sent, in order: bytes, and ranges of open files that models send with
/// sendfile() so that file data never passes through user memory. Sessions append; models send
/// from the front (front(), then consume() what went out).
///
/// The budget is what the session may still add before it must stop taking requests (the
/// model's high-water mark, less what is already waiting to be sent). size() and full() count a
/// file range by its length, so a 1 MiB range fills a 1 MiB budget like 1 MiB of bytes does.
class Output {
 public:
  static constexpr std::size_t kUnlimited = std::numeric_limits<std::size_t>::max();

  /// The next piece to send: `bytes`, or, when `file` >= 0, `length` bytes of that file from
  /// `offset`. Valid until the next append() or consume().
  struct Piece {
    net::ConstBytes bytes;
    int file = -1;
    std::uint64_t offset = 0;
    std::size_t length = 0;
    /// These bytes end where a file range begins (a response head before its body): sent with
    /// MSG_MORE, the two leave in one segment when the body is small.
    bool file_follows = false;
    bool is_file() const noexcept { return file >= 0; }
    std::size_t size() const noexcept { return is_file() ? length : bytes.size(); }
  };

  explicit Output(std::size_t budget = kUnlimited) noexcept : budget_(budget) {}

  void append(net::ConstBytes bytes);
  void append(std::string_view text) { append(net::as_bytes(text)); }
  /// An empty range adds nothing.
  void append(FileRange range);

  /// Bytes still to send, file ranges included.
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  /// The budget is spent: a session takes no further request.
  bool full() const noexcept { return size_ >= budget_; }
  /// What the session may add before full() (0 when full).
  std::size_t room() const noexcept { return full() ? 0 : budget_ - size_; }
  void set_budget(std::size_t budget) noexcept { budget_ = budget; }

  /// The next piece; empty bytes when nothing is left.
  Piece front() const noexcept;
  /// Forgets the first `n` bytes of front() (they went out).
  void consume(std::size_t n) noexcept;
  /// Moves `other`'s unsent pieces to the end of this one, leaving `other` empty (and reusing
  /// memory where it can). The budgets stay.
  void splice(Output& other);
  /// Forgets everything unsent, keeping the memory (an io_uring send in flight may still read it).
  void clear() noexcept;
  /// Gives the memory back. Only when nothing is being sent from it: a drained output of an idle
  /// connection, which should cost nothing while its client thinks.
  void release() noexcept;

  /// Calls `visit(piece)` for every piece still to send, in order (for tests and fuzzers).
  template <typename Visit>
  void for_each(Visit&& visit) const {
    std::size_t at = head_;
    if (files_) {
      for (std::size_t r = files_->head; r < files_->ranges.size(); ++r) {
        const auto& [range, before] = files_->ranges[r];
        if (before > at) visit(Piece{net::ConstBytes(bytes_).subspan(at, before - at)});
        const std::size_t skip = r == files_->head ? files_->sent : 0;
        visit(Piece{{}, range.file->get(), range.offset + skip, range.length - skip});
        at = before;
      }
    }
    if (bytes_.size() > at) visit(Piece{net::ConstBytes(bytes_).subspan(at)});
  }

  /// The unsent bytes, file ranges left out: what a test compares when it sends no files.
  std::string_view text() const noexcept {
    return {reinterpret_cast<const char*>(bytes_.data()) + head_, bytes_.size() - head_};
  }
  net::ConstBytes bytes() const noexcept { return net::ConstBytes(bytes_).subspan(head_); }

 private:
  struct Range {
    FileRange range;
    std::size_t before;  // how many bytes of bytes_ go out before it
  };
  // Only outputs that ever held a file have these: a connection's idle footprint stays small.
  struct Files {
    std::vector<Range> ranges;
    std::size_t head = 0;  // ranges before this went out
    std::size_t sent = 0;  // of ranges[head]
    bool pending() const noexcept { return head < ranges.size(); }
  };

  std::vector<std::byte> bytes_;  // every byte piece, back to back
  std::size_t head_ = 0;          // bytes_ before this went out
  std::size_t size_ = 0;
  std::size_t budget_;
  std::unique_ptr<Files> files_;
};

/// Sends what the kernel takes now of `piece` (send, or sendfile for a file range): nullopt when
/// the socket is full. A file that shrank under its range is an error. sendfile() waits unless
/// `fd` is non-blocking, and cannot suppress SIGPIPE: send files from a non-blocking socket
/// under a net::SigpipeBlock.
net::Result<net::Transferred> send_piece(int fd, const Output::Piece& piece);

}  // namespace sockit::serve
