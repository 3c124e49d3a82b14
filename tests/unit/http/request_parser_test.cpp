#include "http/request_parser.hpp"

#include "parser_test_support.hpp"

using namespace sockit::http;
using sockit::http::testing::parse;
using sockit::http::testing::status_of;
using Strings = std::vector<std::string>;

namespace {

constexpr std::string_view kCurl = "GET /index.html HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n";

}  // namespace

TEST(RequestParser, ReturnsCurlsRequestWithItsFields) {
  EXPECT_EQ(parse(kCurl), (Strings{"GET /index.html HTTP/1.1 keep-alive [Host: 127.0.0.1:8080] [User-Agent: curl/7.88.1] [Accept: */*]",
                                   "idle"}));
}

TEST(RequestParser, FindsFieldsWhateverTheirCase) {
  RequestParser parser;
  ASSERT_EQ(parser.feed(sockit::testing::bytes_of(kCurl)).kind, RequestParser::Kind::request);
  ASSERT_NE(parser.request().field("user-AGENT"), nullptr);
  EXPECT_EQ(*parser.request().field("user-AGENT"), "curl/7.88.1");
  EXPECT_EQ(parser.request().field("Range"), nullptr);
}

TEST(RequestParser, ReturnsPipelinedRequestsOnePerFeedInOrder) {
  const std::string three = "GET /a HTTP/1.1\r\nHost: h\r\n\r\nHEAD /b HTTP/1.1\r\nHost: h\r\n\r\nGET /c HTTP/1.0\r\n\r\n";
  RequestParser parser;
  auto in = sockit::testing::bytes_of(three);
  std::vector<std::string> targets;
  for (;;) {
    const auto step = parser.feed(in);
    in = in.subspan(step.consumed);
    if (step.kind != RequestParser::Kind::request) break;
    targets.push_back(parser.request().target);
  }
  EXPECT_EQ(targets, (Strings{"/a", "/b", "/c"}));
  EXPECT_TRUE(in.empty());
  EXPECT_EQ(parse(three).size(), 4u);
}

TEST(RequestParser, KeepsHttp11AliveUnlessConnectionClose) {
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: Keep-Alive, CLOSE\r\n\r\n")[0],
            "GET / HTTP/1.1 close [Host: h] [Connection: Keep-Alive, CLOSE]");
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: closed\r\n\r\n")[0],
            "GET / HTTP/1.1 keep-alive [Host: h] [Connection: closed]");
}

TEST(RequestParser, KeepsHttp10AliveOnlyWithConnectionKeepAlive) {
  EXPECT_EQ(parse("GET / HTTP/1.0\r\n\r\n")[0], "GET / HTTP/1.0 close");
  EXPECT_EQ(parse("GET / HTTP/1.0\r\nconnection: foo ,keep-alive\r\n\r\n")[0],
            "GET / HTTP/1.0 keep-alive [connection: foo ,keep-alive]");
  EXPECT_EQ(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n")[0].substr(0, 20),
            "GET / HTTP/1.0 close");
}

TEST(RequestParser, SkipsEmptyLinesBeforeARequestAndTakesBareLf) {
  EXPECT_EQ(parse("\r\n\n\r\nGET / HTTP/1.1\nHost: h\n\n"), (Strings{"GET / HTTP/1.1 keep-alive [Host: h]", "idle"}));
}

TEST(RequestParser, TrimsWhitespaceAroundFieldValues) {
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost:h\r\nX-A: \t a b \t\r\nX-B:\r\n\r\n")[0],
            "GET / HTTP/1.1 keep-alive [Host: h] [X-A: a b] [X-B: ]");
}

TEST(RequestParser, TakesAbsoluteFormAndAnyTokenMethod) {
  EXPECT_EQ(parse("M-SEARCH http://h/x?y HTTP/1.1\r\nHost: h\r\n\r\n")[0], "M-SEARCH http://h/x?y HTTP/1.1 keep-alive [Host: h]");
}

TEST(RequestParser, NeedMoreConsumesEverythingOffered) {
  RequestParser parser;
  const auto step = parser.feed(sockit::testing::bytes_of("GET / HTTP/1.1\r\nHo"));
  EXPECT_EQ(step.kind, RequestParser::Kind::need_more);
  EXPECT_EQ(step.consumed, 18u);
  EXPECT_TRUE(parser.mid_request());
}

TEST(RequestParser, IsMidRequestFromItsFirstByteToTheEndOfItsBody) {
  RequestParser parser;
  EXPECT_FALSE(parser.mid_request());
  parser.feed(sockit::testing::bytes_of("\r\n"));
  EXPECT_FALSE(parser.mid_request());
  parser.feed(sockit::testing::bytes_of("G"));
  EXPECT_TRUE(parser.mid_request());
  EXPECT_EQ(parser.feed(sockit::testing::bytes_of("ET / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n")).kind,
            RequestParser::Kind::request);
  EXPECT_TRUE(parser.mid_request());
  parser.feed(sockit::testing::bytes_of("ab"));
  EXPECT_TRUE(parser.mid_request());
  parser.feed(sockit::testing::bytes_of("c"));
  EXPECT_FALSE(parser.mid_request());
}

TEST(RequestParser, ReturnsNothingAfterAnError) {
  RequestParser parser;
  EXPECT_EQ(parser.feed(sockit::testing::bytes_of("BAD\r\n")).kind, RequestParser::Kind::error);
  const auto again = parser.feed(sockit::testing::bytes_of("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
  EXPECT_EQ(again.kind, RequestParser::Kind::error);
  EXPECT_EQ(again.consumed, 0u);
  EXPECT_EQ(parser.error().status, 400);
}

TEST(RequestParser, NamesTheBadHeaderLineInItsReason) {
  RequestParser parser;
  parser.feed(sockit::testing::bytes_of("GET / HTTP/1.1\r\nHost: h\r\nA: b\r\nnocolon\r\n\r\n"));
  EXPECT_EQ(parser.error().reason, "header line 3 has no colon");
}

TEST(RequestParser, Answers400ToABadRequestLine) {
  for (const char* line : {"GET  / HTTP/1.1", "GET / HTTP/1.1 ", "GET /", "GET", "G(T / HTTP/1.1", "GET / http/1.1",
                           "GET / HTTP/1.1.1", "GET / HTTP/11", " GET / HTTP/1.1", "GET /\x01 HTTP/1.1",
                           "GET /\x7f HTTP/1.1", "GET / HTTP/1.1\r", "GET\t/ HTTP/1.1", "GET / HTTP/1.x"}) {
    EXPECT_EQ(status_of(std::string(line) + "\r\nHost: h\r\n\r\n"), 400) << line;
  }
}

TEST(RequestParser, Answers505ToOtherVersions) {
  for (const char* version : {"HTTP/2.0", "HTTP/1.2", "HTTP/0.9", "HTTP/3.1"}) {
    EXPECT_EQ(status_of(std::string("GET / ") + version + "\r\nHost: h\r\n\r\n"), 505) << version;
  }
}

TEST(RequestParser, Answers400ToBadFieldLines) {
  for (const char* field : {"Host : h", "Host\t: h", "Host: h\r\n folded", "Host: h\r\n\tfolded", "no colon",
                            ": empty name", "Ho(st: h", "X: a\rb", "X: \x1b[31m", "X: a\x7f"}) {
    const std::string text = std::string("GET / HTTP/1.1\r\nHost: h\r\n") + field + "\r\n\r\n";
    EXPECT_EQ(status_of(text), 400) << field;
  }
}

TEST(RequestParser, Answers400ToANulAnywhere) {
  using namespace std::string_literals;
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n"s), 400);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\nX\0: a\r\n\r\n"s), 400);
  EXPECT_EQ(status_of("GET /\0 HTTP/1.1\r\nHost: h\r\n\r\n"s), 400);
  EXPECT_EQ(status_of("\0GET / HTTP/1.1\r\nHost: h\r\n\r\n"s), 400);
}

TEST(RequestParser, Answers400ToACrWithoutLf) {
  EXPECT_EQ(status_of("GET / HTTP/1.1\rHost: h\r\n\r\n"), 400);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\r\n\r\n"), 400);
  EXPECT_EQ(status_of("\rGET / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
}

TEST(RequestParser, Answers400ToAMissingOrRepeatedHost) {
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n"), 400);
  EXPECT_EQ(status_of("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
  EXPECT_EQ(status_of("GET / HTTP/1.0\r\n\r\n"), 0);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost:\r\n\r\n"), 0);  // RFC 9112 3.2: empty when no authority
}
