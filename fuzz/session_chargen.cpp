// Chargen's TCP session (RFC 864) in random splits and output budgets, with writable() calls
// whenever everything was sent: the client sees a prefix of RFC 864's endless pattern.
#include "serve/services/services.hpp"
#include "support/session_harness.hpp"

using namespace sockit;

namespace {

// RFC 864: line N is the 72 characters from (N mod 95) of the 95 printing characters (from '!',
// the space last), then CR LF.
std::string pattern(std::size_t length) {
  std::string text;
  for (std::size_t line = 0; text.size() < length; ++line) {
    for (std::size_t i = 0; i < 72; ++i) {
      const auto n = (line + i) % 95;
      text += n < 94 ? static_cast<char>('!' + n) : ' ';
    }
    text += "\r\n";
  }
  text.resize(length);
  return text;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto service = serve::services::make_tcp("chargen", {});
  FuzzedDataProvider fdp(data, size);
  auto options = fuzz::answers_up_to(64 * 74);
  options.producer = true;
  options.compare = [](const std::string& split, const std::string&) {
    fuzz::require(split == pattern(split.size()), "chargen's lines are not RFC 864's");
  };
  fuzz::fuzz_session(*service, {}, fdp, options);
  return 0;
}
