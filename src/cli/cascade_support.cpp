#include <fmt/core.h>

#include <cctype>
#include <charconv>

#include "cli/cascade_commands.hpp"

namespace sockit::cli::cascade_commands {

std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::uint64_t number = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (error != std::errc() || end == text.data()) return std::nullopt;
  std::string unit(end, text.data() + text.size());
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::uint64_t scale = 0;
  if (unit.empty() || unit == "b") scale = 1;
  else if (unit == "k" || unit == "kib" || unit == "kb") scale = 1ull << 10;
  else if (unit == "m" || unit == "mib" || unit == "mb") scale = 1ull << 20;
  else if (unit == "g" || unit == "gib" || unit == "gb") scale = 1ull << 30;
  if (scale == 0 || number == 0 || number > (~0ull) / scale) return std::nullopt;
  return number * scale;
}

std::string human_bytes(double bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 4) {
    bytes /= 1024;
    ++unit;
  }
  return unit == 0 ? fmt::format("{:.0f} B", bytes) : fmt::format("{:.1f} {}", bytes, kUnits[unit]);
}

}  // namespace sockit::cli::cascade_commands
