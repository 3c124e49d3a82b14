// The HTTP response parser of `sockit bench http` (tools/http_response.hpp) on any stream of
// responses, split anywhere, answering GET or HEAD: pipelined responses end at the same offsets
// with the same status, body size and keep-alive as when the stream arrives in one piece; a
// feed never takes more than it was given nor leaves bytes of an incomplete response unused;
// a bad response stays bad; memory stays bounded (ASan's RSS limit: 64 KiB heads and trailers,
// 512-byte chunk lines, bodies never kept).
#include "support/check.hpp"
#include "tools/http_response.hpp"

#include <fuzzer/FuzzedDataProvider.h>

#include <vector>

using namespace sockit;

namespace {

using Status = tools::HttpResponseParser::Status;

struct Response {
  Status status;
  int code;
  std::uint64_t body;
  bool keep_alive;
  std::size_t end;  // stream offset after the response (complete ones; 0 otherwise)
  bool operator==(const Response&) const = default;
};

// Parses `stream` in the given pieces (empty: one piece), reset() after each complete response,
// finish() at the end when a response has begun; stops at the first bad one.
std::vector<Response> parse(std::string_view stream, const std::vector<std::size_t>& pieces, bool head) {
  tools::HttpResponseParser parser(head);
  std::vector<Response> out;
  std::size_t at = 0, piece = 0;
  while (at < stream.size()) {
    const auto n = piece < pieces.size() ? std::min(pieces[piece++], stream.size() - at) : stream.size() - at;
    auto rest = stream.substr(at, n);
    while (!rest.empty()) {
      const auto step = parser.feed(fuzz::bytes_of(rest));
      fuzz::require(step.used <= rest.size(), "the parser took more than it was given");
      at += step.used;
      rest.remove_prefix(step.used);
      fuzz::require(parser.body_bytes() <= parser.progress(), "more body than bytes");
      if (step.status == Status::bad) {
        fuzz::require(!parser.what().empty(), "a bad response without a reason");
        fuzz::require(parser.feed(fuzz::bytes_of("HTTP/1.1 200 OK\r\n\r\n")).status == Status::bad, "bad did not stay bad");
        out.push_back({Status::bad, 0, 0, false, 0});
        return out;
      }
      if (step.status == Status::incomplete) {
        fuzz::require(rest.empty(), "an incomplete response left bytes unused");
        continue;
      }
      fuzz::require(step.used > 0 || parser.progress() > 0, "a response completed from no bytes");
      const int code = parser.status_code();
      fuzz::require(code >= 200 && code <= 599, "a final status outside 200-599");
      if (head || code == 204 || code == 304) fuzz::require(parser.body_bytes() == 0, "a body where none may be");
      out.push_back({Status::complete, code, parser.body_bytes(), parser.keep_alive(), at});
      parser.reset();
      fuzz::require(parser.progress() == 0 && parser.status_code() == 0, "reset() kept state");
    }
  }
  if (parser.progress() > 0) {
    const auto status = parser.finish();
    if (status == Status::complete) {
      fuzz::require(!parser.keep_alive(), "a close-delimited body kept the connection");
      out.push_back({status, parser.status_code(), parser.body_bytes(), false, at});
    } else {
      out.push_back({status, 0, 0, false, 0});
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider fdp(data, size);
  const bool head = fdp.ConsumeBool();
  std::vector<std::size_t> pieces;
  for (int n = fdp.ConsumeIntegralInRange<int>(0, 32); n > 0; --n)
    pieces.push_back(fdp.ConsumeIntegralInRange<std::size_t>(1, 64));
  const std::string stream = fdp.ConsumeRemainingBytesAsString();

  const auto split = parse(stream, pieces, head);
  const auto whole = parse(stream, {}, head);
  fuzz::require(split == whole, "the responses depend on how the stream is split");
  return 0;
}
