// The time TCP session (RFC 868) with any clock, in random splits and output budgets: 4 bytes,
// big-endian seconds since 1900 modulo 2^32, then close.
#include <chrono>

#include "net/byte_order.hpp"
#include "serve/services/services.hpp"
#include "support/session_harness.hpp"

using namespace sockit;

// A clock a model can give: any time_point but the first and last second, whose whole second
// is not representable in nanoseconds (daytime's floor<seconds>() would overflow: not reachable
// from system_clock::now(), and not worth a fix).
constexpr std::int64_t kEarliest = INT64_MIN + 1'000'000'000;
constexpr std::int64_t kLatest = INT64_MAX - 1'000'000'000;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto service = serve::services::make_tcp("time", {});
  FuzzedDataProvider fdp(data, size);
  const auto nanoseconds = fdp.ConsumeIntegralInRange<std::int64_t>(kEarliest, kLatest);
  const std::chrono::system_clock::time_point now{std::chrono::duration_cast<std::chrono::system_clock::duration>(
      std::chrono::nanoseconds(nanoseconds))};
  serve::SessionContext context;
  context.now = [now] { return now; };
  const auto runs = fuzz::fuzz_session(*service, context, fdp, fuzz::answers_up_to(4));
  // Floor division: a time before 1970 still counts whole seconds down.
  auto seconds = nanoseconds / 1'000'000'000;
  if (nanoseconds % 1'000'000'000 < 0) --seconds;
  std::string expected(4, '\0');
  net::store_u32(reinterpret_cast<std::byte*>(expected.data()),
                 static_cast<std::uint32_t>(static_cast<std::uint64_t>(seconds) + 2'208'988'800U));
  fuzz::require(runs.split.received == expected, "time's 4 bytes are not RFC 868's");
  return 0;
}
