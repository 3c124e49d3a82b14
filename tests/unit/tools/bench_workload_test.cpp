#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "test_support.hpp"
#include "tools/bench_workload.hpp"

namespace sockit::tools {
namespace {

using testing::bytes_of;

Exchange echo_of(std::size_t size) { return make_exchange({.workload = Workload::echo, .size = size}); }

TEST(ReplyMatcher, EchoReplySplitAcrossCallsMatchesOnlyWhenComplete) {
  const auto x = echo_of(10);
  ReplyMatcher m(x.expect);
  const std::string reply = x.request;
  auto step = m.feed(bytes_of(reply.substr(0, 3)));
  EXPECT_EQ(step.used, 3u);
  EXPECT_EQ(step.status, ReplyStatus::incomplete);
  step = m.feed(bytes_of(reply.substr(3)));
  EXPECT_EQ(step.used, 7u);
  EXPECT_EQ(step.status, ReplyStatus::matched);
}

TEST(ReplyMatcher, EchoReplyWithOneWrongByteIsWrong) {
  const auto x = echo_of(64);
  ReplyMatcher m(x.expect);
  std::string reply = x.request;
  reply[40] ^= 1;
  EXPECT_EQ(m.feed(bytes_of(reply.substr(0, 20))).status, ReplyStatus::incomplete);
  EXPECT_EQ(m.feed(bytes_of(reply.substr(20))).status, ReplyStatus::wrong);
}

TEST(ReplyMatcher, PipelinedRepliesInOneChunkAreMatchedOneAtATime) {
  const auto x = echo_of(5);
  ReplyMatcher m(x.expect);
  const std::string chunk = x.request + x.request + x.request.substr(0, 2);
  auto bytes = bytes_of(chunk);
  int matched = 0;
  while (!bytes.empty()) {
    const auto step = m.feed(bytes);
    bytes = bytes.subspan(step.used);
    if (step.status == ReplyStatus::matched) {
      ++matched;
      m.reset();
    }
  }
  EXPECT_EQ(matched, 2);
  EXPECT_EQ(m.progress(), 2u);
}

TEST(ReplyMatcher, ShortReplyEndedByEofIsWrong) {
  const auto x = echo_of(8);
  ReplyMatcher m(x.expect);
  m.feed(bytes_of(x.request.substr(0, 4)));
  EXPECT_EQ(m.finish(), ReplyStatus::wrong);
}

TEST(ReplyMatcher, FibReplyMustBeTheRightNumber) {
  const auto x = make_exchange({.workload = Workload::fib, .fib_n = 27});
  EXPECT_EQ(x.request, "27\n");
  ReplyMatcher right(x.expect);
  EXPECT_EQ(right.feed(bytes_of("1964")).status, ReplyStatus::incomplete);
  EXPECT_EQ(right.feed(bytes_of("18\n")).status, ReplyStatus::matched);
  ReplyMatcher wrong(x.expect);
  EXPECT_EQ(wrong.feed(bytes_of("196417\n")).status, ReplyStatus::wrong);
}

TEST(ReplyMatcher, RawExpectBytesCompletesAfterThatManyBytes) {
  const auto x = make_exchange({.workload = Workload::raw, .send = "PING\r\n", .expect_bytes = 7});
  ReplyMatcher m(x.expect);
  EXPECT_EQ(m.feed(bytes_of("+PON")).status, ReplyStatus::incomplete);
  const auto step = m.feed(bytes_of("G\r\n+PONG\r\n"));
  EXPECT_EQ(step.used, 3u);
  EXPECT_EQ(step.status, ReplyStatus::matched);
}

TEST(ReplyMatcher, DaytimeLineMatchesAndGarbageDoesNot) {
  const auto x = make_exchange({.workload = Workload::daytime});
  EXPECT_TRUE(x.request.empty());
  EXPECT_TRUE(x.connection_per_request);
  ReplyMatcher m(x.expect);
  EXPECT_EQ(m.feed(bytes_of("Sun Nov 22 10:00:00 2026\r")).status, ReplyStatus::incomplete);
  EXPECT_EQ(m.feed(bytes_of("\n")).status, ReplyStatus::matched);
  ReplyMatcher empty(x.expect);
  EXPECT_EQ(empty.feed(bytes_of("\r\n")).status, ReplyStatus::wrong);
}

TEST(ReplyMatcher, TimeReplyFarFromNowIsWrong) {
  const auto x = make_exchange({.workload = Workload::time});
  ReplyMatcher m(x.expect);
  EXPECT_EQ(m.feed(bytes_of(std::string("\0\0\0\1", 4))).status, ReplyStatus::wrong);
}

TEST(Workload, FibonacciTextIsExactBeyondSixtyFourBits) {
  EXPECT_EQ(fibonacci_text(0), "0");
  EXPECT_EQ(fibonacci_text(1), "1");
  EXPECT_EQ(fibonacci_text(27), "196418");
  EXPECT_EQ(fibonacci_text(100), "354224848179261915075");
}

TEST(Workload, EscapesDecode) {
  EXPECT_EQ(decode_escapes("PING\\r\\n"), "PING\r\n");
  EXPECT_EQ(decode_escapes("a\\x41\\\\\\0"), std::string("aA\\\0", 4));
  EXPECT_THROW(decode_escapes("bad\\q"), std::invalid_argument);
  EXPECT_THROW(decode_escapes("\\x4"), std::invalid_argument);
}

TEST(Workload, ImpossibleCombinationsAreRejected) {
  EXPECT_THROW(make_exchange({.workload = Workload::raw, .send = "PING\r\n"}), std::invalid_argument);
  EXPECT_THROW(make_exchange({.workload = Workload::stream, .udp = true}), std::invalid_argument);
  EXPECT_THROW(make_exchange({.workload = Workload::connect, .udp = true}), std::invalid_argument);
}

TEST(Workload, StreamDefaultsToOneMebibyteAndConnectToOneRequestPerConnection) {
  EXPECT_EQ(make_exchange({.workload = Workload::stream}).request.size(), 1u << 20);
  const auto connect = make_exchange({.workload = Workload::connect});
  EXPECT_EQ(connect.request.size(), 64u);
  EXPECT_TRUE(connect.connection_per_request);
}

TEST(Workload, NamesRoundTrip) {
  for (const char* name : {"echo", "fib", "time", "daytime", "connect", "stream", "raw"})
    EXPECT_EQ(workload_name(*parse_workload(name)), name);
  EXPECT_FALSE(parse_workload("nope"));
}

}  // namespace
}  // namespace sockit::tools
