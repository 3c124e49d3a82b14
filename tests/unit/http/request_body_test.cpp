#include "http/request_parser.hpp"

#include "parser_test_support.hpp"

using namespace sockit::http;
using sockit::http::testing::parse;
using sockit::http::testing::status_of;
using Strings = std::vector<std::string>;

namespace {

std::string post(std::string_view fields, std::string_view body) {
  return "POST /a HTTP/1.1\r\nHost: h\r\n" + std::string(fields) + "\r\n" + std::string(body) + "GET /next HTTP/1.1\r\nHost: h\r\n\r\n";
}

}  // namespace

TEST(RequestBody, IsDiscardedByContentLengthBeforeTheNextRequest) {
  EXPECT_EQ(parse(post("Content-Length: 10\r\n", "GET /x HTT")),
            (Strings{"POST /a HTTP/1.1 keep-alive [Host: h] [Content-Length: 10]", "GET /next HTTP/1.1 keep-alive [Host: h]", "idle"}));
}

TEST(RequestBody, OfLengthZeroIsNoBody) {
  EXPECT_EQ(parse(post("Content-Length: 000\r\n", "")).size(), 3u);
}

TEST(RequestBody, IsDiscardedChunkedWithExtensionsAndTrailers) {
  const auto body = "5;name=value;quoted=\"a \\\"b\\\" ;c\"\r\nhello\r\n1A ; x\r\nabcdefghijklmnopqrstuvwxyz\r\n"
                    "00;last\r\nTrailer-One: 1\r\nTrailer-Two: 2\r\n\r\n";
  EXPECT_EQ(parse(post("Transfer-Encoding: chunked\r\n", body)),
            (Strings{"POST /a HTTP/1.1 keep-alive [Host: h] [Transfer-Encoding: chunked]", "GET /next HTTP/1.1 keep-alive [Host: h]", "idle"}));
}

TEST(RequestBody, TakesChunkedWithBareLfAndAnyCase) {
  EXPECT_EQ(parse(post("Transfer-Encoding: CHUNKED\r\n", "3\nabc\n0\n\n")).size(), 3u);
}

TEST(RequestBody, Answers400ToABadChunk) {
  for (const char* body : {"x\r\n", "\r\n", "-1\r\n", "3\r\nabcd\r\n0\r\n\r\n", "3 x\r\nabc\r\n0\r\n\r\n",
                           "3;\r\nabc\r\n0\r\n\r\n", "3;a=\r\nabc\r\n0\r\n\r\n", "3;a=\"b\r\nabc\r\n0\r\n\r\n",
                           "3;a=\"\x01\"\r\nabc\r\n0\r\n\r\n", "0\r\nbad trailer\r\n\r\n", "0\r\n folded: x\r\n\r\n",
                           "3\rabc\r\n0\r\n\r\n", "0x3\r\nabc\r\n0\r\n\r\n"}) {
    EXPECT_EQ(status_of(post("Transfer-Encoding: chunked\r\n", body)), 400) << body;
  }
}

TEST(RequestBody, Answers400ToAnEndlessChunkSizeLine) {
  EXPECT_EQ(status_of(post("Transfer-Encoding: chunked\r\n", "1;" + std::string(5000, 'a') + "\r\n")), 400);
  EXPECT_EQ(status_of(post("Transfer-Encoding: chunked\r\n", std::string(4000, '0') + "1\r\na\r\n0\r\n\r\n")), 0);
}

TEST(RequestBody, Answers400ToAContentLengthThatIsNotDigits) {
  for (const char* value : {"-1", "+5", "1 2", "0x10", "", "5,5", "1.0", "five"}) {
    EXPECT_EQ(status_of(post(std::string("Content-Length: ") + value + "\r\n", "")), 400) << value;
  }
}

TEST(RequestBody, Answers400ToContentLengthTwiceEvenWithOneValue) {
  EXPECT_EQ(status_of(post("Content-Length: 3\r\nContent-Length: 3\r\n", "abc")), 400);
  EXPECT_EQ(status_of(post("Content-Length: 3\r\ncontent-length: 4\r\n", "abc")), 400);
}

TEST(RequestBody, Answers400ToTransferEncodingWithContentLength) {
  EXPECT_EQ(status_of(post("Content-Length: 3\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n")), 400);
  EXPECT_EQ(status_of(post("Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", "0\r\n\r\n")), 400);
}

TEST(RequestBody, Answers400ToTransferEncodingOnHttp10) {
  EXPECT_EQ(status_of("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), 400);
}

TEST(RequestBody, Answers400ToChunkedTwiceOrAnEmptyCoding) {
  EXPECT_EQ(status_of(post("Transfer-Encoding: chunked, chunked\r\n", "0\r\n\r\n")), 400);
  EXPECT_EQ(status_of(post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n")), 400);
  EXPECT_EQ(status_of(post("Transfer-Encoding: ,chunked\r\n", "0\r\n\r\n")), 400);
}

TEST(RequestBody, Answers501ToACodingOtherThanChunked) {
  for (const char* value : {"gzip", "gzip, chunked", "chunked, gzip", "identity", "chunked;q=1", "x-chunked"}) {
    EXPECT_EQ(status_of(post(std::string("Transfer-Encoding: ") + value + "\r\n", "0\r\n\r\n")), 501) << value;
  }
  EXPECT_EQ(status_of(post("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n")), 501);
}

TEST(RequestBody, Answers413ToAContentLengthOverTheLimit) {
  EXPECT_EQ(status_of(post("Content-Length: 1048576\r\n", std::string(1048576, 'x'))), 0);
  EXPECT_EQ(status_of(post("Content-Length: 1048577\r\n", "")), 413);
}

TEST(RequestBody, Answers413ToContentLengthsTooLargeToHold) {
  for (const char* value : {"18446744073709551615", "18446744073709551616", "99999999999999999999999999999999"}) {
    EXPECT_EQ(status_of(post(std::string("Content-Length: ") + value + "\r\n", "")), 413) << value;
  }
}

TEST(RequestBody, Answers413ToChunksOverTheLimitInTotal) {
  ParserLimits limits;
  limits.max_body = 10;
  EXPECT_EQ(status_of(post("Transfer-Encoding: chunked\r\n", "5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n"), limits), 0);
  EXPECT_EQ(status_of(post("Transfer-Encoding: chunked\r\n", "5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n"), limits), 413);
}

TEST(RequestBody, Answers413ToChunkSizesTooLargeToHold) {
  for (const char* size : {"ffffffffffffffff", "10000000000000000", "fffffffffffffffffffffffffffff"}) {
    EXPECT_EQ(status_of(post("Transfer-Encoding: chunked\r\n", std::string(size) + "\r\n")), 413) << size;
  }
  // A wrapped sum would be small: 2^64 - 1 after 1 byte.
  EXPECT_EQ(status_of(post("Transfer-Encoding: chunked\r\n", "1\r\na\r\nffffffffffffffff\r\n")), 413);
}

TEST(RequestBody, Answers431ToEndlessTrailers) {
  std::string trailers;
  for (int i = 0; i < 101; ++i) trailers += "T: x\r\n";
  EXPECT_EQ(status_of(post("Transfer-Encoding: chunked\r\n", "0\r\n" + trailers + "\r\n")), 431);
  EXPECT_EQ(status_of(post("Transfer-Encoding: chunked\r\n", "0\r\nT: " + std::string(40000, 'x') + "\r\n\r\n")), 431);
}

TEST(RequestBody, ABadBodyIsAnErrorOfTheRequestAlreadyReturned) {
  const auto feed_all = [](std::string_view text) {
    RequestParser parser;
    auto bytes = std::as_bytes(std::span(text.data(), text.size()));
    for (;;) {
      const auto step = parser.feed(bytes);
      bytes = bytes.subspan(step.consumed);
      if (step.kind != RequestParser::Kind::request) return std::pair(step.kind, parser.error());
    }
  };
  const auto [bad_chunk, chunk_error] = feed_all("GET /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
  EXPECT_EQ(bad_chunk, RequestParser::Kind::error);
  EXPECT_TRUE(chunk_error.in_body) << "GET /a was returned (and answered) before its body went bad";
  const auto [bad_field, field_error] = feed_all("GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nX : y\r\n\r\n");
  EXPECT_EQ(bad_field, RequestParser::Kind::error);
  EXPECT_FALSE(field_error.in_body) << "GET /b was never returned: it gets the 400";
}
