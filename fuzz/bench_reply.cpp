// The load generator's reply matcher (tools/bench_workload.hpp) on any reply stream, split
// anywhere, for the exchange of any workload (the --send/--expect escapes decoded by
// decode_escapes): pipelined replies are matched one after another exactly as when the stream
// arrives in one piece; a matcher never uses bytes past its reply; exact replies match only
// their bytes.
#include <stdexcept>

#include "support/check.hpp"
#include "tools/bench_workload.hpp"

#include <fuzzer/FuzzedDataProvider.h>

using namespace sockit;

namespace {

struct Verdict {
  tools::ReplyStatus status;
  std::size_t end;  // stream offset after the reply (matched ones only; 0 otherwise)
  bool operator==(const Verdict&) const = default;
};

// Runs the matcher over `stream` in the given pieces (empty: one piece); stops at the first
// wrong reply. The end of the stream ends the last reply (finish()).
std::vector<Verdict> match(const tools::Expectation& expect, std::string_view stream,
                           const std::vector<std::size_t>& pieces) {
  tools::ReplyMatcher matcher(expect);
  std::vector<Verdict> verdicts;
  std::size_t at = 0;
  std::size_t piece = 0;
  while (at < stream.size()) {
    const auto n = piece < pieces.size() ? std::min(pieces[piece++], stream.size() - at) : stream.size() - at;
    auto rest = stream.substr(at, n);
    while (!rest.empty()) {
      const auto step = matcher.feed(fuzz::bytes_of(rest));
      fuzz::require(step.used <= rest.size(), "the matcher used more than it was given");
      at += step.used;
      rest.remove_prefix(step.used);
      if (step.status == tools::ReplyStatus::wrong) {
        verdicts.push_back({step.status, 0});
        return verdicts;
      }
      if (step.status == tools::ReplyStatus::incomplete) {
        fuzz::require(rest.empty(), "an incomplete reply left bytes unused");
        continue;
      }
      fuzz::require(step.used > 0 || matcher.progress() > 0, "a reply matched from no bytes");
      verdicts.push_back({step.status, at});
      matcher.reset();
      fuzz::require(matcher.progress() == 0, "reset() kept progress");
    }
  }
  if (matcher.progress() > 0) verdicts.push_back({matcher.finish(), 0});
  return verdicts;
}

std::string escaped(FuzzedDataProvider& fdp) {
  const auto text = fdp.ConsumeRandomLengthString(24);
  try {
    return tools::decode_escapes(text);
  } catch (const std::invalid_argument&) {
    return text;  // malformed: a user would have been told; use the text as it is
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider fdp(data, size);
  tools::WorkloadOptions options;
  options.workload = static_cast<tools::Workload>(fdp.ConsumeIntegralInRange<int>(0, 6));
  options.size = fdp.ConsumeIntegralInRange<std::size_t>(1, 100);
  options.fib_n = fdp.ConsumeIntegralInRange<unsigned>(0, 200);
  options.udp = fdp.ConsumeBool();
  if (options.workload == tools::Workload::raw) {
    options.send = escaped(fdp);
    if (fdp.ConsumeBool()) options.expect = escaped(fdp);
    else options.expect_bytes = fdp.ConsumeIntegralInRange<std::size_t>(0, 40);
  }
  tools::Exchange exchange;
  try {
    exchange = tools::make_exchange(options);
  } catch (const std::invalid_argument&) {
    return 0;  // a combination `sockit bench` refuses
  }
  exchange.expect.max_line = fdp.ConsumeIntegralInRange<std::size_t>(1, 200);

  std::vector<std::size_t> pieces;
  for (int n = fdp.ConsumeIntegralInRange<int>(0, 16); n > 0; --n)
    pieces.push_back(fdp.ConsumeIntegralInRange<std::size_t>(1, 40));
  // The stream: replies as the server would send them, or anything.
  std::string stream;
  if (exchange.expect.mode == tools::Expectation::Mode::exact && fdp.ConsumeBool()) {
    for (int n = fdp.ConsumeIntegralInRange<int>(1, 4); n > 0; --n) stream += exchange.expect.bytes;
  }
  stream += fdp.ConsumeRemainingBytesAsString();

  const auto split = match(exchange.expect, stream, pieces);
  const auto whole = match(exchange.expect, stream, {});
  fuzz::require(split.size() == whole.size(), "the number of replies depends on the splits");
  for (std::size_t i = 0; i < split.size(); ++i) {
    fuzz::require(split[i].status == whole[i].status, "a reply's verdict depends on the splits");
    // A wrong line may be noticed early (past max_line) or at its end: where is not compared.
    if (split[i].status == tools::ReplyStatus::matched)
      fuzz::require(split[i].end == whole[i].end, "a reply's end depends on the splits");
  }
  if (exchange.expect.mode == tools::Expectation::Mode::exact) {
    const auto& reply = exchange.expect.bytes;
    for (const auto& v : whole)
      if (v.status == tools::ReplyStatus::matched && v.end > 0)
        fuzz::require(v.end >= reply.size() && std::string_view(stream).substr(v.end - reply.size(), reply.size()) == reply,
                      "an exact reply matched other bytes");
  }
  return 0;
}
