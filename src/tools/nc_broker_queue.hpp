#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sockit::tools {

/// Bytes waiting for one broker client, oldest first. Sent bytes are dropped from the front
/// lazily (when they are at least half the buffer) so that appending and consuming stay O(1)
/// amortised; an emptied queue gives its memory back.
class OutQueue {
 public:
  std::size_t size() const noexcept { return bytes_.size() - sent_; }
  bool empty() const noexcept { return size() == 0; }
  std::string_view front() const noexcept { return std::string_view(bytes_).substr(sent_); }

  void append(std::string_view more) {
    if (sent_ > 0 && sent_ >= bytes_.size() / 2) {
      bytes_.erase(0, sent_);
      sent_ = 0;
    }
    bytes_.append(more);
  }

  /// The first `n` bytes of front() were sent.
  void consumed(std::size_t n) {
    sent_ += n;
    if (sent_ == bytes_.size()) {
      std::string().swap(bytes_);
      sent_ = 0;
    }
  }

  /// Bytes held in memory, sent ones not yet dropped included.
  std::size_t footprint() const noexcept { return bytes_.capacity(); }

 private:
  std::string bytes_;
  std::size_t sent_ = 0;
};

}  // namespace sockit::tools
