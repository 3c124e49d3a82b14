#include <fmt/core.h>

#include <bit>
#include <charconv>
#include <cstring>
#include <string>

#include "cli/command.hpp"
#include "cli/option_checks.hpp"
#include "net/byte_order.hpp"

namespace sockit::cli {
namespace {

struct EndianOptions {
  std::uint64_t value = 0x01020304;
  int bits = 32;
};

std::string hex_bytes(const std::byte* bytes, std::size_t count) {
  std::string text;
  for (std::size_t i = 0; i < count; ++i) text += fmt::format("{}{:02x}", i ? " " : "", std::to_integer<int>(bytes[i]));
  return text;
}

template <typename T>
void show(T value) {
  std::byte host[sizeof(T)];
  std::memcpy(host, &value, sizeof(T));
  std::byte wire[sizeof(T)];
  net::store_be(wire, value);
  fmt::print("value 0x{:0{}x} = {} ({}-bit)\n", value, 2 * sizeof(T), value, 8 * sizeof(T));
  fmt::print("  host order (memory):    {}\n", hex_bytes(host, sizeof(T)));
  fmt::print("  network order (wire):   {}\n", hex_bytes(wire, sizeof(T)));
  for (std::size_t i = 0; i < sizeof(T); ++i)
    fmt::print("  byte {} has {:02x} in memory, {:02x} on the wire\n", i, std::to_integer<int>(host[i]),
               std::to_integer<int>(wire[i]));
  const char* swap = sizeof(T) == 2 ? "htons" : sizeof(T) == 4 ? "htonl" : "htobe64";
  fmt::print("{}(0x{:0{}x}) = 0x{:0{}x}\n", swap, value, 2 * sizeof(T), net::host_to_network(value),
             2 * sizeof(T));
}

// --value: decimal (leading zeros too: "010" is ten, not octal eight) or 0x hex, 64 bits at
// most; rewritten in decimal for CLI11, whose own reading would take 010 as octal.
std::string check_value(std::string& text) {
  if (!text.starts_with("0x") && !text.starts_with("0X")) return checks::check_whole(text, 0, ~std::uint64_t{0});
  std::uint64_t value = 0;
  const char* first = text.data() + 2;
  const char* last = text.data() + text.size();
  const auto [end, ec] = std::from_chars(first, last, value, 16);
  if (ec == std::errc::result_out_of_range) return fmt::format("{} does not fit in 64 bits", text);
  if (first == last || ec != std::errc{} || end != last) return fmt::format("'{}' is not a decimal or 0x hex number", text);
  text = std::to_string(value);
  return {};
}

int run(const EndianOptions& options) {
  if (options.bits < 64 && (options.value >> options.bits) != 0) {
    fmt::print(stderr, "sockit endian: {} does not fit in {} bits\n", options.value, options.bits);
    return 2;
  }
  const bool little = std::endian::native == std::endian::little;
  fmt::print("this machine is {}-endian; network byte order is big-endian{}\n", little ? "little" : "big",
             little ? ", so htons/htonl swap bytes" : ", so htons/htonl do nothing");
  switch (options.bits) {
    case 16: show(static_cast<std::uint16_t>(options.value)); break;
    case 32: show(static_cast<std::uint32_t>(options.value)); break;
    default: show(options.value); break;
  }
  return 0;
}

}  // namespace

Command add_endian(CLI::App& app) {
  auto options = std::make_shared<EndianOptions>();
  auto* cmd = app.add_subcommand("endian", "Show this machine's byte order and a value's bytes in host and network order");
  cmd->add_option("--value", options->value, "the value to show (decimal or 0x hex)")
      ->capture_default_str()
      ->transform(CLI::Validator(check_value, "DECIMAL or 0xHEX"));
  cmd->add_option("--bits", options->bits, "width of the value")
      ->transform(checks::whole(16, 64))
      ->check(CLI::IsMember({16, 32, 64}))
      ->capture_default_str();
  cmd->footer("Example:\n  sockit endian --value 0x01020304 --bits 32");
  return {cmd, [options] { return run(*options); }};
}

}  // namespace sockit::cli
