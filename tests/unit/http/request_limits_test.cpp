#include "http/request_parser.hpp"

#include "parser_test_support.hpp"

using namespace sockit::http;
using sockit::http::testing::status_of;

namespace {

// A request line of exactly `length` bytes, CRLF not counted.
std::string request_line_of(std::size_t length) {
  const std::string fixed = "GET / HTTP/1.1";
  return "GET /" + std::string(length - fixed.size(), 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n";
}

// A header section of exactly `bytes`, line ends and the final empty line counted.
std::string header_section_of(std::size_t bytes) {
  const std::string head = "Host: h\r\nX: ";
  return "GET / HTTP/1.1\r\n" + head + std::string(bytes - head.size() - 4, 'v') + "\r\n\r\n";
}

std::string with_fields(std::size_t n) {
  std::string text = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (std::size_t i = 1; i < n; ++i) text += "X-" + std::to_string(i) + ": v\r\n";
  return text + "\r\n";
}

}  // namespace

TEST(RequestLimits, TakesARequestLineOfExactly8KiB) {
  EXPECT_EQ(status_of(request_line_of(8192)), 0);
}

TEST(RequestLimits, Answers414ToARequestLineOneByteOver) {
  EXPECT_EQ(status_of(request_line_of(8193)), 414);
}

TEST(RequestLimits, Answers414ToAnEndlessRequestLineAfterAtMostTheLimit) {
  RequestParser parser;
  const std::string endless(1 << 20, 'a');
  const auto step = parser.feed(sockit::testing::bytes_of(endless));
  EXPECT_EQ(step.kind, RequestParser::Kind::error);
  EXPECT_EQ(parser.error().status, 414);
  EXPECT_LE(step.consumed, 8192u + 2);
}

TEST(RequestLimits, TakesAHeaderSectionOfExactly32KiB) {
  EXPECT_EQ(status_of(header_section_of(32768)), 0);
}

TEST(RequestLimits, Answers431ToAHeaderSectionOneByteOver) {
  EXPECT_EQ(status_of(header_section_of(32769)), 431);
}

TEST(RequestLimits, Takes100Fields) {
  EXPECT_EQ(status_of(with_fields(100)), 0);
}

TEST(RequestLimits, Answers431To101Fields) {
  EXPECT_EQ(status_of(with_fields(101)), 431);
}

TEST(RequestLimits, Rejects10MBOfHeadersAfterAtMost32KiB) {
  std::string stream = "GET / HTTP/1.1\r\nHost: h\r\n";
  while (stream.size() < 10'000'000) stream += "X-Filler: " + std::string(50, 'f') + "\r\n";
  RequestParser parser;
  std::size_t consumed = 0;
  RequestParser::Step step;
  // As a network delivers it: 4 KiB at a time.
  while (consumed < stream.size()) {
    step = parser.feed(sockit::testing::bytes_of(std::string_view(stream).substr(consumed, 4096)));
    consumed += step.consumed;
    if (step.kind != RequestParser::Kind::need_more) break;
  }
  EXPECT_EQ(step.kind, RequestParser::Kind::error);
  EXPECT_EQ(parser.error().status, 431);
  EXPECT_LE(consumed, 16u + 32768u);
}

TEST(RequestLimits, Rejects10MBInOneLineAfterAtMost32KiB) {
  const std::string stream = "GET / HTTP/1.1\r\nX: " + std::string(10'000'000, 'v');
  RequestParser parser;
  const auto step = parser.feed(sockit::testing::bytes_of(stream));
  EXPECT_EQ(parser.error().status, 431);
  EXPECT_LE(step.consumed, 16u + 32768u);
}

TEST(RequestLimits, SkipsEndlessEmptyLinesWithoutKeepingThem) {
  const std::string blank(1 << 20, '\n');
  RequestParser parser;
  const auto step = parser.feed(sockit::testing::bytes_of(blank));
  EXPECT_EQ(step.kind, RequestParser::Kind::need_more);
  EXPECT_FALSE(parser.mid_request());
}

TEST(RequestLimits, FollowsLimitsItIsGiven) {
  ParserLimits small;
  small.max_request_line = 20;
  small.max_header_bytes = 30;
  small.max_fields = 2;
  EXPECT_EQ(status_of("GET /12345 HTTP/1.1\r\nHost: h\r\n\r\n", small), 0);   // 19 bytes
  EXPECT_EQ(status_of("GET /123456 HTTP/1.1\r\nHost: h\r\n\r\n", small), 0);  // 20 bytes
  EXPECT_EQ(status_of("GET /1234567 HTTP/1.1\r\nHost: h\r\n\r\n", small), 414);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\nA: b\r\nC: d\r\n\r\n", small), 431);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\nA: 12345678901234\r\n\r\n", small), 0);  // 30 bytes
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\nA: 123456789012345\r\n\r\n", small), 431);
}
