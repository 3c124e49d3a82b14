#include "serve/output.hpp"

#include <utility>

#include "net/error.hpp"

namespace sockit::serve {

void Output::append(net::ConstBytes bytes) {
  bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
  size_ += bytes.size();
}

void Output::append(FileRange range) {
  if (range.length == 0) return;
  size_ += range.length;
  ranges_.push_back({std::move(range), bytes_.size()});
}

Output::Piece Output::front() const noexcept {
  if (range_head_ < ranges_.size()) {
    const auto& [range, before] = ranges_[range_head_];
    if (before == head_) return Piece{{}, range.file->get(), range.offset + range_sent_, range.length - range_sent_};
    return Piece{net::ConstBytes(bytes_).subspan(head_, before - head_)};
  }
  return Piece{net::ConstBytes(bytes_).subspan(head_)};
}

void Output::consume(std::size_t n) noexcept {
  if (n == 0) return;
  size_ -= n;
  if (size_ == 0) {
    clear();
    return;
  }
  if (range_head_ < ranges_.size() && ranges_[range_head_].before == head_) {
    auto& range = ranges_[range_head_];
    range_sent_ += n;
    if (range_sent_ == range.range.length) {
      range.range.file.reset();  // done with the file: let it close if nobody else holds it
      ++range_head_;
      range_sent_ = 0;
    }
    return;
  }
  head_ += n;
}

void Output::splice(Output& other) {
  if (other.empty()) return;
  if (empty()) {  // the common case: hand the buffers over
    clear();
    std::swap(bytes_, other.bytes_);
    std::swap(ranges_, other.ranges_);
    head_ = std::exchange(other.head_, 0);
    range_head_ = std::exchange(other.range_head_, 0);
    range_sent_ = std::exchange(other.range_sent_, 0);
    size_ = std::exchange(other.size_, 0);
    return;
  }
  const std::size_t base = bytes_.size();
  for (std::size_t r = other.range_head_; r < other.ranges_.size(); ++r) {
    Range range = other.ranges_[r];
    if (r == other.range_head_) {
      range.range.offset += other.range_sent_;
      range.range.length -= other.range_sent_;
    }
    range.before = base + (range.before - other.head_);
    ranges_.push_back(std::move(range));
  }
  bytes_.insert(bytes_.end(), other.bytes_.begin() + static_cast<std::ptrdiff_t>(other.head_), other.bytes_.end());
  size_ += other.size_;
  other.clear();
}

void Output::clear() noexcept {
  bytes_.clear();
  ranges_.clear();
  head_ = range_head_ = range_sent_ = size_ = 0;
}

net::Result<net::Transferred> send_piece(int fd, const Output::Piece& piece) {
  if (!piece.is_file()) return net::try_send(fd, piece.bytes);
  auto sent = net::try_sendfile(fd, piece.file, piece.offset, piece.length);
  if (sent && *sent && **sent == 0)
    return net::Error("sendfile", std::make_error_code(std::errc::io_error), net::peer_text(fd),
                      "the file is shorter than the range being sent: it shrank");
  return sent;
}

}  // namespace sockit::serve
