// Echo's TCP session (RFC 862) in random splits and output budgets: every byte comes back, in
// order, whatever the splits.
#include "serve/services/services.hpp"
#include "support/session_harness.hpp"

using namespace sockit;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto service = serve::services::make_tcp("echo", {});
  FuzzedDataProvider fdp(data, size);
  const auto runs = fuzz::fuzz_session(*service, {}, fdp, fuzz::answers_up_to(0));
  fuzz::require(runs.whole.received == runs.whole.arrived, "echo changed the bytes");
  return 0;
}
