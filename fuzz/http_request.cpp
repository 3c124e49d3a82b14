// The HTTP request parser (src/http/request_parser.hpp) on any bytes in random splits, with its
// default limits or small ones that random input can reach. Checks its contract on every feed:
// it never takes more than offered, need_more takes everything, after an error it takes nothing;
// and the requests (each ending at the same byte) and the error it ends with are the same as
// when everything arrives at once.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cctype>
#include <random>
#include <string>
#include <vector>

#include "http/request_parser.hpp"
#include "support/check.hpp"

using namespace sockit;

namespace {

// What a returned request may hold whatever arrived (RFC 9112 3 and 5).
void check_request(const http::Request& r) {
  const auto tchar = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos; };
  const auto control = [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; };
  fuzz::require(!r.method.empty() && std::all_of(r.method.begin(), r.method.end(), tchar), "a method that is not a token");
  fuzz::require(!r.target.empty() && std::none_of(r.target.begin(), r.target.end(), [&](char c) { return c == ' ' || control(c); }),
                "a target with a space or control byte");
  fuzz::require(r.minor == 0 || r.minor == 1, "a version other than 1.0 or 1.1");
  for (const auto& f : r.fields) {
    fuzz::require(!f.name.empty() && std::all_of(f.name.begin(), f.name.end(), tchar), "a field name that is not a token");
    fuzz::require(std::none_of(f.value.begin(), f.value.end(), [&](char c) { return c != '\t' && control(c); }),
                  "a control byte in a field value");
    fuzz::require(f.value.empty() || (f.value.front() != ' ' && f.value.front() != '\t' && f.value.back() != ' ' && f.value.back() != '\t'),
                  "a field value with whitespace around it");
  }
}

std::string describe(const http::Request& r, std::size_t end) {
  check_request(r);
  std::string text = std::to_string(end) + " " + r.method + " " + r.target + " " + std::to_string(r.minor) +
                     (r.keep_alive ? " keep" : " close");
  for (const auto& f : r.fields) text += "\n" + f.name + ": " + f.value;
  return text;
}

// Offers `input` in pieces whose sizes `piece()` picks, re-offering what a request step left.
template <typename Piece>
std::vector<std::string> run(std::string_view input, const http::ParserLimits& limits, Piece&& piece) {
  http::RequestParser parser(limits);
  std::vector<std::string> seen;
  std::size_t at = 0;    // bytes consumed so far
  std::size_t held = 0;  // bytes arrived so far
  while (held < input.size()) {
    held = std::min(input.size(), held + piece());
    for (;;) {
      const auto offered = input.substr(at, held - at);
      const auto step = parser.feed(fuzz::bytes_of(offered));
      fuzz::require(step.consumed <= offered.size(), "feed() took more than it was offered");
      at += step.consumed;
      if (step.kind == http::RequestParser::Kind::error) {
        const auto& error = parser.error();
        fuzz::require(error.status == 400 || error.status == 413 || error.status == 414 || error.status == 431 ||
                          error.status == 501 || error.status == 505,
                      "an error status outside the documented ones: ", std::to_string(error.status));
        const auto again = parser.feed(fuzz::bytes_of(input.substr(at)));
        fuzz::require(again.kind == http::RequestParser::Kind::error && again.consumed == 0, "feed() took bytes after an error");
        fuzz::require(!parser.mid_request(), "mid_request() after an error");
        seen.push_back("error " + std::to_string(error.status));
        return seen;
      }
      if (step.kind == http::RequestParser::Kind::need_more) {
        fuzz::require(step.consumed == offered.size(), "need_more left bytes behind");
        break;
      }
      fuzz::require(step.consumed > 0, "a request from no bytes");
      seen.push_back(describe(parser.request(), at));
    }
  }
  seen.push_back(parser.mid_request() ? "mid-request" : "idle");
  return seen;
}

http::ParserLimits pick_limits(FuzzedDataProvider& fdp) {
  http::ParserLimits limits;
  if (fdp.ConsumeBool()) return limits;
  limits.max_request_line = fdp.ConsumeIntegralInRange<std::size_t>(0, 64);
  limits.max_header_bytes = fdp.ConsumeIntegralInRange<std::size_t>(0, 256);
  limits.max_fields = fdp.ConsumeIntegralInRange<std::size_t>(0, 8);
  limits.max_body = fdp.ConsumeIntegralInRange<std::uint64_t>(0, 300);
  return limits;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider fdp(data, size);
  const auto limits = pick_limits(fdp);
  const auto seed = fdp.ConsumeIntegral<std::uint32_t>();
  const auto max_piece = fdp.ConsumeIntegralInRange<std::size_t>(1, 64);
  const auto input = fdp.ConsumeRemainingBytesAsString();

  const auto whole = run(input, limits, [&] { return input.size(); });
  std::minstd_rand random(seed);
  const auto split = run(input, limits, [&] { return std::uniform_int_distribution<std::size_t>(1, max_piece)(random); });
  fuzz::require(split == whole, "the requests depend on how the input was split");
  const auto bytewise = run(input, limits, [] { return std::size_t{1}; });
  fuzz::require(bytewise == whole, "the requests differ when the input comes one byte at a time");
  return 0;
}
