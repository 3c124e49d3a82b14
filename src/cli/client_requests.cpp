// sockit client: where requests come from and where replies go, and the binary formats of the
// time and incr services.
#include <fmt/core.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>

#include "cli/client.hpp"
#include "net/byte_order.hpp"

namespace sockit::cli::client {
namespace {

// RFC 868: seconds from 1900-01-01 to 1970-01-01.
constexpr std::int64_t kEpochOffset = 2208988800;

}  // namespace

void write_out(std::string_view bytes) {
  if (std::fwrite(bytes.data(), 1, bytes.size(), stdout) == bytes.size() && std::fflush(stdout) == 0) return;
  if (errno == EPIPE) throw OutputClosed{};
  throw std::runtime_error(fmt::format("write to standard output failed: {}", std::strerror(errno)));
}

void write_out(std::span<const std::byte> bytes) {
  write_out(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

Requests::Requests(const std::vector<std::string>& args, Check check) : args_(args), check_(std::move(check)) {
  for (const auto& arg : args_) check_(arg);
}

std::optional<std::string> Requests::next() {
  if (!args_.empty()) {
    if (index_ == args_.size()) return std::nullopt;
    return args_[index_++];
  }
  std::string line;
  if (!std::getline(std::cin, line)) return std::nullopt;
  check_(line);
  return line;
}

std::string decode_time(std::span<const std::byte> reply) {
  if (reply.size() != 4) throw std::runtime_error(fmt::format("time: expected 4 bytes, got {}", reply.size()));
  const std::uint32_t since_1900 = net::load_u32(reply.data());
  const std::time_t unix_time = static_cast<std::time_t>(static_cast<std::int64_t>(since_1900) - kEpochOffset);
  std::tm local{};
  ::localtime_r(&unix_time, &local);
  char text[64];
  std::strftime(text, sizeof(text), "%a %b %e %H:%M:%S %Y", &local);
  return fmt::format("{} ({} seconds since 1900)", text, since_1900);
}

std::array<std::byte, 2> encode_incr(const std::string& text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value < -32768 || value > 32767)
    throw UsageError(fmt::format("incr: '{}' is not an integer from -32768 to 32767", text));
  std::array<std::byte, 2> wire;
  net::store_u16(wire.data(), static_cast<std::uint16_t>(static_cast<std::int16_t>(value)));
  return wire;
}

int decode_incr(std::span<const std::byte> reply) {
  if (reply.size() != 2) throw std::runtime_error(fmt::format("incr: expected 2 bytes, got {}", reply.size()));
  return static_cast<std::int16_t>(net::load_u16(reply.data()));
}

}  // namespace sockit::cli::client
