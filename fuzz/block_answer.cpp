// The downloader's block-answer parser (cascade-protocol.md §3, client side) on any stream,
// split anywhere, with requests of any expected length going into flight at any point, fed
// through feed() or space()/commit(). Its answers and its verdict are a straightforward
// reading's of the same bytes; it never uses bytes past an answer and never holds more than one
// block or one message.
#include <algorithm>
#include <cstring>
#include <deque>

#include "cascade/block_answer.hpp"
#include "net/byte_order.hpp"
#include "support/check.hpp"

#include <fuzzer/FuzzedDataProvider.h>

using namespace sockit;

namespace {

struct Seen {
  unsigned status;
  std::string body;
  bool stray;
  bool operator==(const Seen&) const = default;
};

struct Verdicts {
  std::vector<Seen> answers;
  std::optional<cascade::BadAnswer::Kind> bad;
};

// The spec read plainly, over the whole stream; `requests` are (stream offset, expected length):
// the request goes into flight before the byte at that offset.
Verdicts reference(std::string_view stream, const std::vector<std::pair<std::size_t, std::uint64_t>>& requests,
                   std::uint64_t max_message) {
  Verdicts v;
  std::deque<std::uint64_t> in_flight;
  std::size_t next_request = 0;
  bool stray_seen = false;
  std::size_t at = 0;
  auto catch_up = [&](std::size_t offset) {
    while (next_request < requests.size() && requests[next_request].first <= offset)
      in_flight.push_back(requests[next_request++].second);
  };
  while (at + cascade::kBlockHeaderSize <= stream.size()) {
    catch_up(at + cascade::kBlockHeaderSize - 1);  // the header is judged on its last byte
    const auto header = fuzz::bytes_of(stream.substr(at, cascade::kBlockHeaderSize));
    const auto status = std::to_integer<unsigned>(header[0]);
    const auto length = net::load_u64(header.data() + 1);
    bool stray = false;
    if (in_flight.empty()) {
      if (status != 4 || stray_seen || length > max_message) {
        v.bad = cascade::BadAnswer::Kind::unrequested;
        return v;
      }
      stray = stray_seen = true;
    } else if (status == 0 && length != in_flight.front()) {
      v.bad = cascade::BadAnswer::Kind::wrong_block_length;
      return v;
    } else if (status != 0 && length > max_message) {
      v.bad = cascade::BadAnswer::Kind::message_too_long;
      return v;
    }
    at += cascade::kBlockHeaderSize;
    if (stream.size() - at < length) return v;
    v.answers.push_back({status, std::string(stream.substr(at, length)), stray});
    at += length;
    if (!stray) in_flight.pop_front();
  }
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider fdp(data, size);
  static constexpr std::uint64_t kMessages[] = {0, 1, 8, 64, 1000, cascade::BlockAnswerParser::kMaxMessage};
  static constexpr std::uint64_t kBlocks[] = {0, 1, 2, 9, 10, 64, 300, 1 << 20};
  const auto max_message = fdp.PickValueInArray(kMessages);
  cascade::BlockAnswerParser parser(max_message);

  std::deque<std::uint64_t> in_flight;
  std::vector<std::pair<std::size_t, std::uint64_t>> requests;
  std::string stream;
  Verdicts got;
  std::uint64_t largest = max_message;

  auto take = [&](const cascade::AnswerStep& step) {
    if (const auto* bad = std::get_if<cascade::BadAnswer>(&step)) {
      got.bad = bad->kind;
      fuzz::require(!bad->message.empty(), "a BadAnswer without a message");
    } else if (const auto* answer = std::get_if<cascade::BlockAnswer>(&step)) {
      got.answers.push_back({answer->status, std::string(fuzz::text_of(answer->body)), answer->stray});
      if (!answer->stray) {
        fuzz::require(!in_flight.empty(), "an answer to no request that is not the stray one");
        in_flight.pop_front();
      }
      fuzz::require(parser.idle(), "not idle right after an answer");
    }
    fuzz::require(parser.buffered() <= std::max<std::uint64_t>(largest, 64), "the parser holds more than one answer");
  };
  auto expected = [&]() -> std::optional<std::uint64_t> {
    if (in_flight.empty()) return std::nullopt;
    return in_flight.front();
  };

  while (fdp.remaining_bytes() > 0 && !got.bad) {
    const int action = fdp.ConsumeIntegralInRange<int>(0, 3);
    if (action == 0) {
      const auto length = fdp.PickValueInArray(kBlocks);
      in_flight.push_back(length);
      requests.emplace_back(stream.size(), length);
      largest = std::max(largest, length);
      continue;
    }
    const auto chunk = fdp.ConsumeBytesAsString(fdp.ConsumeIntegralInRange<std::size_t>(1, 80));
    std::string_view rest = chunk;
    if (action == 1) {  // the test's way: feed()
      while (!rest.empty() && !got.bad) {
        const auto fed = parser.feed(fuzz::bytes_of(rest), expected());
        fuzz::require(fed.used <= rest.size(), "feed() used more than it was given");
        if (std::holds_alternative<cascade::NeedMore>(fed.step))
          fuzz::require(fed.used == rest.size(), "NeedMore with bytes left unused");
        stream += rest.substr(0, fed.used);
        take(fed.step);
        rest.remove_prefix(fed.used);
        fuzz::require(fed.used > 0, "feed() made no progress");
      }
    } else {  // the connection's way: receive into space(), commit()
      while (!rest.empty() && !got.bad) {
        const auto space = parser.space();
        fuzz::require(!space.empty(), "space() is empty while the stream is good");
        const auto n = std::min({space.size(), rest.size(), fdp.ConsumeIntegralInRange<std::size_t>(1, 80)});
        std::memcpy(space.data(), rest.data(), n);
        stream += rest.substr(0, n);
        rest.remove_prefix(n);
        take(parser.commit(n, expected()));
      }
    }
  }
  const auto want = reference(stream, requests, max_message);
  fuzz::require(got.answers == want.answers, "the answers differ from a plain reading of the stream");
  fuzz::require(got.bad == want.bad, "the verdict differs from a plain reading of the stream");
  return 0;
}
