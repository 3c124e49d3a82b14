#include <fmt/core.h>
#include <signal.h>

#include <cctype>
#include <charconv>

#include "cli/cascade_commands.hpp"

namespace sockit::cli::cascade_commands {
namespace {

serve::StopSignal* g_stop = nullptr;
struct sigaction g_old_int {};
struct sigaction g_old_term {};

extern "C" void request_stop(int) {
  if (g_stop) g_stop->request();
}

}  // namespace

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

StopOnSignals::StopOnSignals(serve::StopSignal& stop) {
  g_stop = &stop;
  struct sigaction action {};
  action.sa_handler = request_stop;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, &g_old_int);
  ::sigaction(SIGTERM, &action, &g_old_term);
}

StopOnSignals::~StopOnSignals() {
  ::sigaction(SIGINT, &g_old_int, nullptr);
  ::sigaction(SIGTERM, &g_old_term, nullptr);
  g_stop = nullptr;
}

}  // namespace sockit::cli::cascade_commands
