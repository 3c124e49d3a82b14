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
  if (!files_) files_ = std::make_unique<Files>();
  files_->ranges.push_back({std::move(range), bytes_.size()});
}

Output::Piece Output::front() const noexcept {
  if (files_ && files_->pending()) {
    const auto& [range, before] = files_->ranges[files_->head];
    if (before == head_) return Piece{{}, range.file->get(), range.offset + files_->sent, range.length - files_->sent};
    return Piece{.bytes = net::ConstBytes(bytes_).subspan(head_, before - head_), .file_follows = true};
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
  if (files_ && files_->pending() && files_->ranges[files_->head].before == head_) {
    auto& range = files_->ranges[files_->head];
    files_->sent += n;
    if (files_->sent == range.range.length) {
      range.range.file.reset();  // done with the file: let it close if nobody else holds it
      ++files_->head;
      files_->sent = 0;
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
    std::swap(files_, other.files_);
    head_ = std::exchange(other.head_, 0);
    size_ = std::exchange(other.size_, 0);
    return;
  }
  if (other.files_ && other.files_->pending()) {
    if (!files_) files_ = std::make_unique<Files>();
    const std::size_t base = bytes_.size();
    for (std::size_t r = other.files_->head; r < other.files_->ranges.size(); ++r) {
      Range range = other.files_->ranges[r];
      if (r == other.files_->head) {
        range.range.offset += other.files_->sent;
        range.range.length -= other.files_->sent;
      }
      range.before = base + (range.before - other.head_);
      files_->ranges.push_back(std::move(range));
    }
  }
  bytes_.insert(bytes_.end(), other.bytes_.begin() + static_cast<std::ptrdiff_t>(other.head_), other.bytes_.end());
  size_ += other.size_;
  other.clear();
}

void Output::clear() noexcept {
  bytes_.clear();
  if (files_) {
    files_->ranges.clear();
    files_->head = files_->sent = 0;
  }
  head_ = size_ = 0;
}

void Output::release() noexcept {
  std::vector<std::byte>().swap(bytes_);
  files_.reset();
  head_ = size_ = 0;
}

net::Result<net::Transferred> send_piece(int fd, const Output::Piece& piece) {
  if (!piece.is_file()) return net::try_send(fd, piece.bytes, piece.file_follows);
  auto sent = net::try_sendfile(fd, piece.file, piece.offset, piece.length);
  if (sent && *sent && **sent == 0)
    return net::Error("sendfile", std::make_error_code(std::errc::io_error), net::peer_text(fd),
                      "the file is shorter than the range being sent: it shrank");
  return sent;
}

}  // namespace sockit::serve
