// The incr TCP session (2-byte big-endian requests, split anywhere) in random splits and output
// budgets: every whole request is answered with n + 1, a lone byte at the end is a complaint.
#include "net/byte_order.hpp"
#include "serve/services/services.hpp"
#include "support/session_harness.hpp"

using namespace sockit;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto service = serve::services::make_tcp("incr", {});
  FuzzedDataProvider fdp(data, size);
  const auto runs = fuzz::fuzz_session(*service, {}, fdp, fuzz::answers_up_to(2));
  const auto in = fuzz::bytes_of(runs.whole.arrived);
  std::string expected(in.size() / 2 * 2, '\0');
  auto* out = reinterpret_cast<std::byte*>(expected.data());
  for (std::size_t i = 0; i + 1 < in.size(); i += 2)
    net::store_u16(out + i, static_cast<std::uint16_t>(net::load_u16(in.data() + i) + 1U));
  fuzz::require(runs.whole.received == expected, "incr's answers are not n + 1");
  fuzz::require(runs.whole.complaints.size() == in.size() % 2, "a lone byte at the end was not reported once");
  return 0;
}
