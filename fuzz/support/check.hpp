#pragma once

// What every fuzz target shares: a check that stops the run with a message (libFuzzer saves the
// input as a crash), and the byte/text conversions.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>

namespace sockit::fuzz {

/// Stops the process (abort: libFuzzer keeps the input) when `ok` is false, printing the parts
/// of the message (built only then: checks run millions of times).
template <typename... Parts>
void require(bool ok, const Parts&... parts) {
  if (ok) [[likely]]
    return;
  std::string what;
  ((what += parts), ...);
  std::fprintf(stderr, "fuzz check failed: %s\n", what.c_str());
  std::abort();
}

inline std::span<const std::byte> bytes_of(std::string_view text) noexcept {
  return std::as_bytes(std::span(text.data(), text.size()));
}
inline std::string_view text_of(std::span<const std::byte> bytes) noexcept {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}
inline std::span<const std::byte> bytes_of(const std::uint8_t* data, std::size_t size) noexcept {
  return {reinterpret_cast<const std::byte*>(data), size};
}

}  // namespace sockit::fuzz
