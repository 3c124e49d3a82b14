#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sockit::serve {

/// What a session wants sent, in order. Models drain it to the socket; sessions only append.
class Output {
 public:
  void append(std::span<const std::byte> bytes) {
    data_.insert(data_.end(), bytes.begin(), bytes.end());
  }
  void append(std::string_view text) { append(std::as_bytes(std::span(text.data(), text.size()))); }

  std::span<const std::byte> bytes() const noexcept { return data_; }
  std::string_view text() const noexcept {
    return {reinterpret_cast<const char*>(data_.data()), data_.size()};
  }
  std::size_t size() const noexcept { return data_.size(); }
  bool empty() const noexcept { return data_.empty(); }
  /// Forgets the first `n` bytes (they were sent).
  void consume(std::size_t n) { data_.erase(data_.begin(), data_.begin() + static_cast<std::ptrdiff_t>(n)); }
  void clear() noexcept { data_.clear(); }

 private:
  std::vector<std::byte> data_;
};

}  // namespace sockit::serve
