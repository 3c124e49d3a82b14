// The upper TCP session in random splits and output budgets. Its answer depends on the splits
// in one documented way only: the first bytes of a "quit" line that arrived split across
// chunks may have gone out already (upper.cpp). And a chunk that is exactly "quit" ends the
// session (the notes' client), so an input that reaches the session as that chunk is left out.
#include <algorithm>

#include "serve/services/services.hpp"
#include "support/session_harness.hpp"

using namespace sockit;

namespace {

// What upper answers to `in` arriving in one piece.
std::string reference(std::string_view in) {
  if (in == "quit") return {};
  std::string out;
  while (!in.empty()) {
    const auto end = in.find('\n');
    const auto line = in.substr(0, end);
    if (end != std::string_view::npos && (line == "quit" || line == "quit\r")) break;
    for (char c : line) out += c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
    if (end == std::string_view::npos) break;
    out += '\n';
    in.remove_prefix(end + 1);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto service = serve::services::make_tcp("upper", {});
  FuzzedDataProvider fdp(data, size);
  auto options = fuzz::answers_up_to(0);
  options.compare = [](const std::string& split, const std::string& whole) {
    fuzz::require(split.starts_with(whole), "upper's answer depends on the splits or budgets");
    fuzz::require(std::string_view("QUIT\r").starts_with(std::string_view(split).substr(whole.size())),
                  "upper sent more than the start of a quit line past the one-piece answer");
  };
  options.chunk_ends_session = [](std::span<const std::byte> chunk) { return fuzz::text_of(chunk) == "quit"; };
  const auto runs = fuzz::fuzz_session(*service, {}, fdp, options);
  fuzz::require(runs.whole.received == reference(runs.whole.arrived), "upper's answer is not the input in upper case");
  return 0;
}
