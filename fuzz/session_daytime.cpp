// The daytime TCP session (RFC 867) with any clock and both formats, in random splits and output
// budgets: one line as inetd (ctime's layout) or ISO 8601 writes it, then close.
#include <chrono>
#include <cstdio>
#include <ctime>

#include "serve/services/services.hpp"
#include "support/session_harness.hpp"

using namespace sockit;

// A clock a model can give: any time_point but the first and last second, whose whole second
// is not representable in nanoseconds (daytime's floor<seconds>() would overflow: not reachable
// from system_clock::now(), and not worth a fix).
constexpr std::int64_t kEarliest = INT64_MIN + 1'000'000'000;
constexpr std::int64_t kLatest = INT64_MAX - 1'000'000'000;

namespace {

// The line written independently of daytime.cpp: strftime in the C locale for inetd's layout.
std::string reference(std::int64_t nanoseconds, bool iso) {
  auto seconds = nanoseconds / 1'000'000'000;
  auto fraction = nanoseconds % 1'000'000'000;
  if (fraction < 0) {
    --seconds;
    fraction += 1'000'000'000;
  }
  const std::time_t t = seconds;
  std::tm tm{};
  if (!localtime_r(&t, &tm)) tm = std::tm{};
  char text[128];
  if (!iso) {
    const auto n = std::strftime(text, sizeof text, "%a %b %e %H:%M:%S ", &tm);
    return std::string(text, n) + std::to_string(tm.tm_year + 1900L) + "\r\n";
  }
  int n = std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                        tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  if (fraction / 1000 != 0) n += std::snprintf(text + n, sizeof text - static_cast<std::size_t>(n), ".%06lld",
                                               static_cast<long long>(fraction / 1000));
  return std::string(text, static_cast<std::size_t>(n)) + "\r\n";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto inetd = serve::services::make_tcp("daytime", {});
  static const auto iso = serve::services::make_tcp("daytime", {.daytime_format = "iso", .fib_algorithm = "iterative", .http = {}});
  FuzzedDataProvider fdp(data, size);
  const bool use_iso = fdp.ConsumeBool();
  const auto nanoseconds = fdp.ConsumeIntegralInRange<std::int64_t>(kEarliest, kLatest);
  const std::chrono::system_clock::time_point now{std::chrono::duration_cast<std::chrono::system_clock::duration>(
      std::chrono::nanoseconds(nanoseconds))};
  serve::SessionContext context;
  context.now = [now] { return now; };
  const auto runs = fuzz::fuzz_session(use_iso ? *iso : *inetd, context, fdp, fuzz::answers_up_to(64));
  fuzz::require(runs.split.received == reference(nanoseconds, use_iso), "daytime's line is not the reference's");
  return 0;
}
