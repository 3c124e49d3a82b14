// Discard's TCP session (RFC 863) in random splits and output budgets: it takes everything and
// sends nothing.
#include "serve/services/services.hpp"
#include "support/session_harness.hpp"

using namespace sockit;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto service = serve::services::make_tcp("discard", {});
  FuzzedDataProvider fdp(data, size);
  const auto runs = fuzz::fuzz_session(*service, {}, fdp, fuzz::answers_up_to(0));
  fuzz::require(runs.split.received.empty(), "discard sent something");
  return 0;
}
