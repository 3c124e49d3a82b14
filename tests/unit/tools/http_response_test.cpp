#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_support.hpp"
#include "tools/http_response.hpp"

namespace sockit::tools {
namespace {

using testing::bytes_of;
using Status = HttpResponseParser::Status;
using namespace std::string_literals;
using namespace std::string_view_literals;

struct Parsed {
  int code = 0;
  std::uint64_t body = 0;
  bool keep_alive = false;
  std::size_t end = 0;  // offset in the stream just past the response
  bool operator==(const Parsed&) const = default;
};

struct Outcome {
  std::vector<Parsed> responses;
  Status last = Status::incomplete;  // of the response after the complete ones (finish() if `eof`)
  std::string what;
};

// Parses `stream` cut into pieces of `piece` bytes (0: one piece), reset() after each complete
// response; with `eof`, the connection then ends (finish()).
Outcome parse(std::string_view stream, std::size_t piece = 0, bool head = false, bool eof = false) {
  HttpResponseParser p(head);
  Outcome out;
  std::size_t at = 0;
  while (at < stream.size() && out.last != Status::bad) {
    auto rest = stream.substr(at, piece ? piece : stream.size());
    while (!rest.empty()) {
      const auto step = p.feed(bytes_of(rest));
      EXPECT_LE(step.used, rest.size());
      at += step.used;
      rest.remove_prefix(step.used);
      out.last = step.status;
      if (step.status == Status::bad) break;
      if (step.status == Status::complete) {
        out.responses.push_back({p.status_code(), p.body_bytes(), p.keep_alive(), at});
        p.reset();
        out.last = Status::incomplete;
      } else {
        EXPECT_TRUE(rest.empty()) << "an incomplete response left bytes unused";
      }
    }
  }
  if (eof && out.last == Status::incomplete && p.progress() > 0) {
    out.last = p.finish();
    if (out.last == Status::complete) out.responses.push_back({p.status_code(), p.body_bytes(), p.keep_alive(), at});
  }
  out.what = std::string(p.what());
  return out;
}

// The outcome is the same however the stream is cut: in two at every offset, and byte by byte.
Outcome parse_split_everywhere(std::string_view stream, bool head = false, bool eof = false) {
  const auto whole = parse(stream, 0, head, eof);
  const auto bytewise = parse(stream, 1, head, eof);
  EXPECT_EQ(bytewise.responses, whole.responses);
  EXPECT_EQ(bytewise.last, whole.last);
  for (std::size_t cut = 1; cut < stream.size(); ++cut) {
    HttpResponseParser p(head);
    std::vector<Parsed> got;
    std::size_t at = 0;
    Status last = Status::incomplete;
    for (auto part : {stream.substr(0, cut), stream.substr(cut)}) {
      while (!part.empty() && last != Status::bad) {
        const auto step = p.feed(bytes_of(part));
        at += step.used;
        part.remove_prefix(step.used);
        last = step.status;
        if (last == Status::complete) {
          got.push_back({p.status_code(), p.body_bytes(), p.keep_alive(), at});
          p.reset();
          last = Status::incomplete;
        }
      }
    }
    if (eof && last == Status::incomplete && p.progress() > 0) {
      last = p.finish();
      if (last == Status::complete) got.push_back({p.status_code(), p.body_bytes(), p.keep_alive(), at});
    }
    EXPECT_EQ(got, whole.responses) << "cut at " << cut;
    EXPECT_EQ(last, whole.last) << "cut at " << cut;
  }
  return whole;
}

const std::string kNginxLike =
    "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n"
    "Connection: keep-alive\r\n\r\n0123456789";

TEST(HttpResponseParser, ContentLengthBodyEndsAtItsLengthHoweverSplit) {
  const auto out = parse_split_everywhere(kNginxLike);
  ASSERT_EQ(out.responses.size(), 1u);
  EXPECT_EQ(out.responses[0], (Parsed{200, 10, true, kNginxLike.size()}));
}

TEST(HttpResponseParser, PipelinedResponsesInOnePieceEndWhereEachEnds) {
  const std::string second = "HTTP/1.1 404 Not Found\r\ncontent-length: 3\r\n\r\nno!";
  const auto out = parse_split_everywhere(kNginxLike + second + kNginxLike);
  ASSERT_EQ(out.responses.size(), 3u);
  EXPECT_EQ(out.responses[1], (Parsed{404, 3, true, kNginxLike.size() + second.size()}));
  EXPECT_EQ(out.responses[2].end, 2 * kNginxLike.size() + second.size());
  EXPECT_EQ(out.last, Status::incomplete);
}

TEST(HttpResponseParser, ChunkedBodyWithExtensionsAndTrailersHoweverSplit) {
  const std::string chunked =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;name=value\r\nhello\r\n"
      "A ; a=\"quoted; x\"\r\n0123456789\r\n"
      "0\r\nExpires: never\r\nX-Sum: 15\r\n\r\n";
  const auto out = parse_split_everywhere(chunked + kNginxLike);
  ASSERT_EQ(out.responses.size(), 2u);
  EXPECT_EQ(out.responses[0], (Parsed{200, 15, true, chunked.size()}));
}

TEST(HttpResponseParser, ChunkedCodingIsFoundLastInAListOfCodings) {
  const std::string chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\ntransfer-encoding: CHUNKED\r\n\r\n"
                              "3\r\nabc\r\n0\r\n\r\n";
  EXPECT_EQ(parse(chunked).responses, (std::vector<Parsed>{{200, 3, true, chunked.size()}}));
}

TEST(HttpResponseParser, TransferCodingNotEndingInChunkedIsDelimitedByTheClose) {
  const std::string gzip = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nbytes";
  const auto out = parse_split_everywhere(gzip, false, /*eof=*/true);
  EXPECT_EQ(out.responses, (std::vector<Parsed>{{200, 5, false, gzip.size()}}));
}

TEST(HttpResponseParser, NoFramingMeansTheBodyEndsWithTheConnection) {
  const std::string head = "HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6\r\n\r\n";
  const std::string body = "the body\r\n\r\nHTTP/1.1 200 OK\r\n";
  const auto out = parse_split_everywhere(head + body, false, /*eof=*/true);
  EXPECT_EQ(out.responses, (std::vector<Parsed>{{200, body.size(), false, head.size() + body.size()}}));
}

TEST(HttpResponseParser, HeadResponseHasNoBodyWhateverItsFieldsSay) {
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
  const auto out = parse_split_everywhere(head + head, /*head=*/true);
  EXPECT_EQ(out.responses,
            (std::vector<Parsed>{{200, 0, true, head.size()}, {200, 0, true, 2 * head.size()}}));
}

TEST(HttpResponseParser, NoContentAndNotModifiedHaveNoBody) {
  const std::string r204 = "HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n";
  const std::string r304 = "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n";
  const auto out = parse_split_everywhere(r204 + r304);
  EXPECT_EQ(out.responses, (std::vector<Parsed>{{204, 0, true, r204.size()}, {304, 0, true, r204.size() + r304.size()}}));
}

TEST(HttpResponseParser, InterimResponsesAreSkippedUntilTheFinalOne) {
  const std::string interim = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n";
  const auto out = parse_split_everywhere(interim + kNginxLike);
  EXPECT_EQ(out.responses, (std::vector<Parsed>{{200, 10, true, interim.size() + kNginxLike.size()}}));
}

TEST(HttpResponseParser, SwitchingProtocolsUnaskedIsBad) {
  const auto out = parse("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n");
  EXPECT_EQ(out.last, Status::bad);
  EXPECT_EQ(out.what, "101 Switching Protocols without an Upgrade request");
}

TEST(HttpResponseParser, KeepAliveFollowsTheVersionAndConnectionField) {
  const auto keep = [](const std::string& head) {
    const auto out = parse(head + "Content-Length: 0\r\n\r\n");
    EXPECT_EQ(out.responses.size(), 1u) << head;
    return !out.responses.empty() && out.responses[0].keep_alive;
  };
  EXPECT_TRUE(keep("HTTP/1.1 200 OK\r\n"));
  EXPECT_FALSE(keep("HTTP/1.1 200 OK\r\nConnection: Upgrade, close\r\n"));
  EXPECT_FALSE(keep("HTTP/1.0 200 OK\r\n"));
  EXPECT_TRUE(keep("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n"));
}

TEST(HttpResponseParser, BareLineFeedsEndLinesToo) {
  const std::string lf = "HTTP/1.1 200 OK\nContent-Length: 2\n\nok";
  EXPECT_EQ(parse_split_everywhere(lf).responses, (std::vector<Parsed>{{200, 2, true, lf.size()}}));
}

TEST(HttpResponseParser, StatusLineWithoutReasonIsAccepted) {
  const std::string bare = "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n";
  EXPECT_EQ(parse(bare).responses, (std::vector<Parsed>{{200, 0, true, bare.size()}}));
}

// --- a hostile or broken server ---

Outcome bad(const std::string& stream) {
  auto out = parse_split_everywhere(stream);
  EXPECT_EQ(out.last, Status::bad) << stream;
  return out;
}

TEST(HttpResponseParser, MalformedStatusLinesAreBad) {
  for (const char* line : {"HTTP/2 200 OK", "HTTP/1.1 20 OK", "HTTP/1.1 2000 OK", "HTTP/1.1 099 Low",
                           "HTTP/1.1 600 High", "http/1.1 200 OK", "HTTP/1.1  200 OK", "HTTP/1.1 200 O\x01K",
                           "HTTP/1.1 200OK", "ICY 200 OK", ""})
    bad(std::string(line) + "\r\nContent-Length: 0\r\n\r\n");
}

TEST(HttpResponseParser, MalformedFieldsAreBad) {
  EXPECT_EQ(bad("HTTP/1.1 200 OK\r\nX: 1\r\n folded\r\n\r\n").what, "obsolete line folding in the header section");
  bad("HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello");
  bad("HTTP/1.1 200 OK\r\nno colon\r\n\r\n");
  bad("HTTP/1.1 200 OK\r\n: empty name\r\n\r\n");
  bad("HTTP/1.1 200 OK\r\nX-Nul: a\0b\r\n\r\n"s);
  bad("HTTP/1.1 200 OK\r\nX-Cr: a\rb\r\n\r\n");
}

TEST(HttpResponseParser, ContentLengthThatIsNoPlainNumberIsBad) {
  for (const char* value : {"-1", "+5", "0x10", "1e3", "5 5", "", "1000000000000000000", "99999999999999999999999"})
    bad(std::string("HTTP/1.1 200 OK\r\nContent-Length: ") + value + "\r\n\r\n");
}

TEST(HttpResponseParser, ConflictingContentLengthsAreBadAndRepeatedEqualOnesAreNot) {
  EXPECT_EQ(bad("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!").what,
            "conflicting Content-Length fields");
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello").responses.size(), 1u);
}

TEST(HttpResponseParser, TransferEncodingWithContentLengthIsBad) {
  EXPECT_EQ(bad("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n").what,
            "both Transfer-Encoding and Content-Length");
  bad("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
}

TEST(HttpResponseParser, ChunkSizeBeyondFifteenHexDigitsIsBad) {
  EXPECT_EQ(bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n").what,
            "chunk size over 15 hex digits");
  bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0000000000000000\r\n\r\n");
}

TEST(HttpResponseParser, MalformedChunkLinesAreBad) {
  for (const char* line : {"\r\n", "x\r\n", "-1\r\n", "5 junk\r\n", "5;ext\x01\r\n", "0x5\r\n"})
    bad(std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n") + line + "hello\r\n0\r\n\r\n");
}

TEST(HttpResponseParser, ChunkDataLongerThanItsSizeIsBad) {
  EXPECT_EQ(bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcdef\r\n0\r\n\r\n").what,
            "chunk data longer than its size");
}

// Feeds `prefix`, then `piece` again and again until the parser gives up (at most 1 MB);
// returns how many bytes it took to give up, or 0 if it never did.
std::size_t bytes_until_bad(HttpResponseParser& p, std::string_view prefix, std::string_view piece) {
  EXPECT_EQ(p.feed(bytes_of(prefix)).status, Status::incomplete);
  for (std::size_t fed = prefix.size(); fed < 1'000'000;) {
    const auto step = p.feed(bytes_of(piece));
    fed += piece.size();
    if (step.status == Status::bad) return fed;
    EXPECT_EQ(step.used, piece.size());
  }
  return 0;
}

TEST(HttpResponseParser, EndlessChunkExtensionStopsAtTheLineLimit) {
  HttpResponseParser p;
  const std::string ext(100, 'x');
  const auto prefix = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;"sv;
  const auto fed = bytes_until_bad(p, prefix, ext);
  EXPECT_GT(fed, 0u);
  EXPECT_LE(fed, prefix.size() + HttpResponseParser::kMaxChunkLine + ext.size());
  EXPECT_EQ(p.what(), "chunk size line over 512 bytes");
}

TEST(HttpResponseParser, EndlessHeadersStopAtSixtyFourKibibytes) {
  HttpResponseParser p;
  const auto fed = bytes_until_bad(p, "HTTP/1.1 200 OK\r\n", "X-Filler: " + std::string(90, 'a') + "\r\n");
  EXPECT_GT(fed, 0u);
  EXPECT_LE(fed, HttpResponseParser::kMaxHead + 102);
  EXPECT_EQ(p.what(), "header section over 64 KiB");
}

TEST(HttpResponseParser, AHeadOfExactlyTheLimitIsAccepted) {
  std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX: ";
  head += std::string(HttpResponseParser::kMaxHead - head.size() - 4, 'a') + "\r\n\r\n";
  ASSERT_EQ(head.size(), HttpResponseParser::kMaxHead);
  EXPECT_EQ(parse(head).responses.size(), 1u);
  EXPECT_EQ(parse(head, 1000).responses.size(), 1u);
  head.insert(20, "a");
  EXPECT_EQ(parse(head).last, Status::bad);
  EXPECT_EQ(parse(head, 1000).last, Status::bad);
}

TEST(HttpResponseParser, EndlessTrailersStopAtSixtyFourKibibytes) {
  HttpResponseParser p;
  const auto prefix = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"sv;
  const auto fed = bytes_until_bad(p, prefix, "X-Trailer: " + std::string(1000, 'b') + "\r\n");
  EXPECT_GT(fed, 0u);
  EXPECT_LE(fed, prefix.size() + HttpResponseParser::kMaxTrailers + 1013);
  EXPECT_EQ(p.what(), "trailer section over 64 KiB");
}

TEST(HttpResponseParser, ShorterBodyThanPromisedThenCloseIsBad) {
  const auto out = parse_split_everywhere("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this", false, true);
  EXPECT_EQ(out.last, Status::bad);
  EXPECT_EQ(out.what, "the connection closed mid-response");
}

TEST(HttpResponseParser, CloseBeforeAnyResponseIsBadAndSaysSo) {
  HttpResponseParser p;
  EXPECT_EQ(p.finish(), Status::bad);
  EXPECT_EQ(p.what(), "the connection closed before the response");
}

TEST(HttpResponseParser, LongerBodyThanPromisedDesynchronisesIntoABadResponse) {
  const auto out = parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello, world\r\n\r\n");
  ASSERT_EQ(out.responses.size(), 1u);
  EXPECT_EQ(out.responses[0].body, 5u);
  EXPECT_EQ(out.last, Status::bad);
}

TEST(HttpResponseParser, HugeContentLengthIsTakenWithoutAllocating) {
  HttpResponseParser p;
  const auto step = p.feed(bytes_of("HTTP/1.1 200 OK\r\nContent-Length: 999999999999999999\r\n\r\nabc"));
  EXPECT_EQ(step.status, Status::incomplete);
  EXPECT_EQ(p.body_bytes(), 3u);
}

TEST(HttpResponseParser, NothingIsTakenAfterACompleteResponseUntilReset) {
  HttpResponseParser p;
  EXPECT_EQ(p.feed(bytes_of(kNginxLike)).status, Status::complete);
  const auto step = p.feed(bytes_of("HTTP/1.1"));
  EXPECT_EQ(step.used, 0u);
  EXPECT_EQ(step.status, Status::complete);
}

}  // namespace
}  // namespace sockit::tools
