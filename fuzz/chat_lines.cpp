// nc --chat's line framer (tools::chat::LineFramer) on hostile input: the bytes come in pieces
// of any size and the line limit is tiny or large. Whatever the pieces, the output is the one
// the whole input gives at once; the framer never holds more than the limit; every output line
// starts with the name and carries no raw control byte but tab and CR.
#include <string>

#include "support/check.hpp"
#include "tools/nc_chat.hpp"

#include <fuzzer/FuzzedDataProvider.h>

using namespace sockit;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider fdp(data, size);
  static constexpr std::size_t kLimits[] = {0, 1, 2, 3, 7, 64, 65536};
  const auto limit = fdp.PickValueInArray(kLimits);
  tools::chat::LineFramer framer("<user7>", limit);
  std::string input, output;
  while (fdp.remaining_bytes() > 0) {
    const auto piece = fdp.ConsumeBytesAsString(fdp.ConsumeIntegralInRange<std::size_t>(1, 300));
    input += piece;
    framer.take(fuzz::bytes_of(piece), output);
    fuzz::require(framer.held() <= std::max<std::size_t>(limit, 1), "the framer holds more than its limit");
  }
  framer.flush(output);
  fuzz::require(framer.held() == 0, "flush left bytes behind");

  tools::chat::LineFramer whole("<user7>", limit);
  std::string expected;
  whole.take(fuzz::bytes_of(input), expected);
  whole.flush(expected);
  fuzz::require(output == expected, "the pieces gave other lines than the whole input");

  std::size_t start = 0;
  while (start < output.size()) {
    const auto end = output.find('\n', start);
    fuzz::require(end != std::string::npos, "output ends without a newline");
    const std::string_view line(output.data() + start, end - start);
    fuzz::require(line.substr(0, 8) == "<user7> ", "a line without the sender's name");
    for (char c : line.substr(8)) {
      const auto u = static_cast<unsigned char>(c);
      fuzz::require((u >= 0x20 && u < 0x7f) || c == '\t' || c == '\r', "a raw control or high byte went out");
    }
    start = end + 1;
  }
  return 0;
}
