// The fib TCP session (lines ending in "\n" or "\0", many per connection) in random splits,
// output budgets and --max-line values: the same answers whatever the splits, each one line
// that is a number or an ERR. The iterative algorithm only: the recursive one is exponential on
// purpose (fib(40) takes seconds) and would only time the fuzzer out.
#include "serve/services/services.hpp"
#include "support/session_harness.hpp"

using namespace sockit;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto service = serve::services::make_tcp("fib", {});
  FuzzedDataProvider fdp(data, size);
  static constexpr std::size_t kMaxLines[] = {1, 2, 3, 5, 8, 40, 8192};
  serve::SessionContext context;
  context.max_line = fdp.PickValueInArray(kMaxLines);
  // fib(10000) has 2090 digits; an ERR line repeats at most 40 bytes of the request.
  const auto runs = fuzz::fuzz_session(*service, context, fdp, fuzz::answers_up_to(2100));
  std::string_view answers = runs.whole.received;
  fuzz::require(answers.empty() || answers.back() == '\n', "an answer without its line end");
  while (!answers.empty()) {
    const auto line = answers.substr(0, answers.find('\n'));
    const bool number = !line.empty() && line.find_first_not_of("0123456789") == std::string_view::npos;
    fuzz::require(number || line.starts_with("ERR "), "an answer that is neither a number nor ERR");
    answers.remove_prefix(line.size() + 1);
  }
  return 0;
}
