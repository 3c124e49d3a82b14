#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>

namespace sockit::net {

/// Big-endian (network order) loads and stores, byte by byte so they work on any host and at
/// compile time: the notes' struct.pack("!h") and htons/htonl without the casts.
template <typename T>
constexpr T load_be(const std::byte* in) noexcept {
  using U = std::make_unsigned_t<T>;
  U value = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) value = static_cast<U>((value << 8) | std::to_integer<U>(in[i]));
  return static_cast<T>(value);
}

template <typename T>
constexpr void store_be(std::byte* out, T value) noexcept {
  using U = std::make_unsigned_t<T>;
  auto bits = static_cast<U>(value);
  for (std::size_t i = sizeof(T); i-- > 0;) {
    out[i] = static_cast<std::byte>(bits & 0xff);
    bits = static_cast<U>(bits >> 4 >> 4);  // two shifts: a single >> 8 is UB for 8-bit types
  }
}

constexpr std::uint16_t load_u16(const std::byte* in) noexcept { return load_be<std::uint16_t>(in); }
constexpr std::uint32_t load_u32(const std::byte* in) noexcept { return load_be<std::uint32_t>(in); }
constexpr std::uint64_t load_u64(const std::byte* in) noexcept { return load_be<std::uint64_t>(in); }
constexpr std::int16_t load_i16(const std::byte* in) noexcept { return load_be<std::int16_t>(in); }
constexpr std::int32_t load_i32(const std::byte* in) noexcept { return load_be<std::int32_t>(in); }

constexpr void store_u16(std::byte* out, std::uint16_t v) noexcept { store_be(out, v); }
constexpr void store_u32(std::byte* out, std::uint32_t v) noexcept { store_be(out, v); }
constexpr void store_u64(std::byte* out, std::uint64_t v) noexcept { store_be(out, v); }
constexpr void store_i16(std::byte* out, std::int16_t v) noexcept { store_be(out, v); }
constexpr void store_i32(std::byte* out, std::int32_t v) noexcept { store_be(out, v); }

/// Swaps a value between host and network order (what htons/htonl/ntohs/ntohl do).
template <typename T>
constexpr T host_to_network(T value) noexcept {
  if constexpr (std::endian::native == std::endian::big) {
    return value;
  } else {
    using U = std::make_unsigned_t<T>;
    auto bits = static_cast<U>(value);
    U swapped = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) {
      swapped = static_cast<U>((swapped << 4 << 4) | (bits & 0xff));
      bits = static_cast<U>(bits >> 4 >> 4);
    }
    return static_cast<T>(swapped);
  }
}
template <typename T>
constexpr T network_to_host(T value) noexcept {
  return host_to_network(value);
}

}  // namespace sockit::net
