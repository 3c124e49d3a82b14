#include <gtest/gtest.h>

#include <deque>

#include "cascade/block_answer.hpp"
#include "block_frames.hpp"
#include "test_support.hpp"

namespace sockit::cascade {
namespace {

using testing::block_answer;

using sockit::testing::bytes_of;
using sockit::testing::text_of;


struct Seen {
  unsigned status;
  std::string body;
  bool stray;
  bool operator==(const Seen&) const = default;
};

// Feeds `stream` in pieces cut at `cuts` to one parser, the way a connection would: the expected
// length is the front of the requests in flight, popped when an answer completes.
struct Reader {
  explicit Reader(std::deque<std::uint64_t> lengths = {}) : in_flight(std::move(lengths)) {}

  BlockAnswerParser parser;
  std::deque<std::uint64_t> in_flight;
  std::vector<Seen> seen;
  std::optional<BadAnswer> bad;

  void feed(std::span<const std::byte> piece) {
    while (!piece.empty() && !bad) {
      const auto expected = in_flight.empty() ? std::nullopt : std::optional(in_flight.front());
      auto fed = parser.feed(piece, expected);
      piece = piece.subspan(fed.used);
      if (auto* answer = std::get_if<BlockAnswer>(&fed.step)) {
        seen.push_back({answer->status, text_of(answer->body), answer->stray});
        if (!answer->stray) in_flight.pop_front();
      } else if (auto* wrong = std::get_if<BadAnswer>(&fed.step)) {
        bad = *wrong;
      }
    }
  }
};

// Block 0 (20 bytes), "lacks" for block 1, block 2 (the 7-byte trail block).
std::vector<std::byte> three_answers() {
  std::vector<std::byte> stream;
  for (const auto& f : {block_answer(0, "twenty bytes of data"), block_answer(2, "lacks"), block_answer(0, "trail!!")})
    stream.insert(stream.end(), f.begin(), f.end());
  return stream;
}
const std::vector<Seen> kThree{{0, "twenty bytes of data", false}, {2, "lacks", false}, {0, "trail!!", false}};
const std::deque<std::uint64_t> kLengths{20, 20, 7};

TEST(BlockAnswerParser, ReadsAnswersCutAtEveryPointAndEveryPairOfPoints) {
  const auto stream = three_answers();
  const std::span<const std::byte> all(stream);
  for (std::size_t first = 0; first <= stream.size(); ++first) {
    for (std::size_t second = first; second <= stream.size(); ++second) {
      Reader r(kLengths);
      r.feed(all.subspan(0, first));
      r.feed(all.subspan(first, second - first));
      r.feed(all.subspan(second));
      ASSERT_FALSE(r.bad) << "cuts " << first << ", " << second << ": " << r.bad->message;
      ASSERT_EQ(r.seen, kThree) << "cuts " << first << ", " << second;
    }
  }
}

TEST(BlockAnswerParser, ReadsAnswersByteByByte) {
  const auto stream = three_answers();
  Reader r(kLengths);
  for (std::size_t i = 0; i < stream.size(); ++i) r.feed(std::span(stream).subspan(i, 1));
  EXPECT_EQ(r.seen, kThree);
  EXPECT_TRUE(r.parser.idle());
}

TEST(BlockAnswerParser, FeedNeverTakesBytesPastTheAnswer) {
  const auto stream = three_answers();
  BlockAnswerParser parser;
  auto fed = parser.feed(stream, 20);
  EXPECT_EQ(fed.used, 9u + 20u);
  ASSERT_TRUE(std::holds_alternative<BlockAnswer>(fed.step));
}

TEST(BlockAnswerParser, AnEmptyMessageIsCompleteWithItsHeader) {
  BlockAnswerParser parser;
  auto fed = parser.feed(block_answer(2, ""), 1024);
  ASSERT_TRUE(std::holds_alternative<BlockAnswer>(fed.step));
  EXPECT_EQ(std::get<BlockAnswer>(fed.step).status, 2u);
  EXPECT_TRUE(parser.idle());
}

TEST(BlockAnswerParser, WrongBlockLengthIsRefusedBeforeAnyBody) {
  for (std::uint64_t lie : {0ull, 19ull, 21ull, 1ull << 40, ~0ull}) {
    BlockAnswerParser parser;
    auto fed = parser.feed(block_answer(0, "", lie), 20);
    ASSERT_TRUE(std::holds_alternative<BadAnswer>(fed.step)) << lie;
    EXPECT_EQ(std::get<BadAnswer>(fed.step).kind, BadAnswer::Kind::wrong_block_length);
    EXPECT_NE(std::get<BadAnswer>(fed.step).message.find("expected 20"), std::string::npos);
    EXPECT_EQ(fed.used, kBlockHeaderSize);
    EXPECT_EQ(parser.buffered(), 0u) << "nothing allocated for a lie";
  }
}

TEST(BlockAnswerParser, AMessageAboveTheBoundIsRefused) {
  BlockAnswerParser parser(100);
  EXPECT_TRUE(std::holds_alternative<BlockAnswer>(parser.feed(block_answer(2, std::string(100, 'x')), 20).step));
  auto fed = parser.feed(block_answer(3, "", 101), 20);
  ASSERT_TRUE(std::holds_alternative<BadAnswer>(fed.step));
  EXPECT_EQ(std::get<BadAnswer>(fed.step).kind, BadAnswer::Kind::message_too_long);
  EXPECT_LE(parser.buffered(), 100u);
}

TEST(BlockAnswerParser, MemoryStaysOneBlockWhateverThePeerSends) {
  BlockAnswerParser parser;
  const std::string block(4096, 'b');
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(std::holds_alternative<BlockAnswer>(parser.feed(block_answer(0, block), 4096).step));
  EXPECT_EQ(parser.buffered(), 4096u);
  auto fed = parser.feed(block_answer(2, "", 1ull << 62), 4096);
  EXPECT_TRUE(std::holds_alternative<BadAnswer>(fed.step));
  EXPECT_EQ(parser.buffered(), 4096u);
}

TEST(BlockAnswerParser, ALongerAnswerDoesNotGrowTheBufferPastItsLength) {
  // Found by fuzz/block_answer: a 47-byte message, then a 60-byte one, left 94 bytes allocated
  // (the vector's growth doubles) where the bound is 64.
  BlockAnswerParser parser(64);
  ASSERT_TRUE(std::holds_alternative<BlockAnswer>(parser.feed(block_answer(2, std::string(47, 'x')), 20).step));
  EXPECT_EQ(parser.buffered(), 47u);
  ASSERT_TRUE(std::holds_alternative<BlockAnswer>(parser.feed(block_answer(2, std::string(60, 'y')), 20).step));
  EXPECT_EQ(parser.buffered(), 60u);
  ASSERT_TRUE(std::holds_alternative<BlockAnswer>(parser.feed(block_answer(0, std::string(20, 'b')), 20).step));
  EXPECT_EQ(parser.buffered(), 60u) << "a shorter answer reuses the buffer";
}

TEST(BlockAnswerParser, OneStrayStatus4MessageWithNoRequestIsSkipped) {
  Reader r;
  r.feed(block_answer(4, "malformed request"));
  ASSERT_FALSE(r.bad);
  EXPECT_EQ(r.seen, (std::vector<Seen>{{4, "malformed request", true}}));
  r.feed(block_answer(4, "again"));
  ASSERT_TRUE(r.bad);
  EXPECT_EQ(r.bad->kind, BadAnswer::Kind::unrequested);
}

TEST(BlockAnswerParser, AnythingElseWithNoRequestIsRefused) {
  for (auto [status, length] : {std::pair{0, 5ull}, {2, 5ull}, {4, BlockAnswerParser::kMaxMessage + 1}}) {
    BlockAnswerParser parser;
    auto fed = parser.feed(block_answer(static_cast<std::uint8_t>(status), "", length), std::nullopt);
    ASSERT_TRUE(std::holds_alternative<BadAnswer>(fed.step)) << status;
    EXPECT_EQ(std::get<BadAnswer>(fed.step).kind, BadAnswer::Kind::unrequested);
  }
}

TEST(BlockAnswerParser, AHeaderSplitAnywhereIsCheckedOnlyWhenWhole) {
  const auto bad = block_answer(0, "", 21);
  for (std::size_t cut = 1; cut < kBlockHeaderSize; ++cut) {
    BlockAnswerParser parser;
    auto fed = parser.feed(std::span(bad).subspan(0, cut), 20);
    EXPECT_TRUE(std::holds_alternative<NeedMore>(fed.step)) << cut;
    fed = parser.feed(std::span(bad).subspan(cut), 20);
    EXPECT_TRUE(std::holds_alternative<BadAnswer>(fed.step)) << cut;
  }
}

}  // namespace
}  // namespace sockit::cascade
