#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace sockit::testing {

inline std::span<const std::byte> bytes_of(std::string_view text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

inline std::string text_of(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

/// Descriptors this process has open now (/proc/self/fd).
int open_fd_count();

}  // namespace sockit::testing
