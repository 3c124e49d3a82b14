#include <gtest/gtest.h>

#include <string>

#include "serve/services/services.hpp"
#include "session_test_support.hpp"
#include "test_support.hpp"

namespace sockit::serve::services {
namespace {

using sockit::testing::offer;

using sockit::testing::bytes_of;
using namespace std::string_view_literals;

ServiceOptions recursive() {
  ServiceOptions options;
  options.fib_algorithm = "recursive";
  return options;
}

class FibSessionTest : public ::testing::Test {
 protected:
  Verdict send(std::string_view text) { return offer(*session_, bytes_of(text), out_); }
  void start(const ServiceOptions& options, const SessionContext& context = {}) {
    session_ = make_fib_tcp(options)->new_session(context);
  }
  std::unique_ptr<Session> session_ = make_fib_tcp({})->new_session({});
  Output out_;
};

// Values from Python: a, b = b, a + b. fib(93) is the largest that fits in 64 unsigned bits.
TEST_F(FibSessionTest, AnswersEachLineInDecimal) {
  EXPECT_EQ(send("0\n1\n2\n10\n90\n93\n100\n"), Verdict::keep_going);
  EXPECT_EQ(out_.text(),
            "0\n1\n1\n55\n2880067194370816120\n12200160415121876738\n354224848179261915075\n");
  EXPECT_EQ(session_->requests(), 7U);
}

TEST_F(FibSessionTest, Fib10000IsExact) {
  send("10000\n");
  const auto text = std::string(out_.text());
  ASSERT_EQ(text.size(), 2090U + 1);  // Python: len(str(fib(10000))) == 2090
  EXPECT_EQ(text.substr(0, 30), "336447648764317832666216120051");
  EXPECT_EQ(text.substr(2090 - 30), "171121233066073310059947366875\n");
}

TEST_F(FibSessionTest, AnswersOnlyWhenTheLineIsComplete) {
  EXPECT_EQ(send("1"), Verdict::keep_going);
  EXPECT_EQ(send("0"), Verdict::keep_going);
  EXPECT_TRUE(out_.empty());
  EXPECT_EQ(send("\n2"), Verdict::keep_going);
  EXPECT_EQ(out_.text(), "55\n");
  send("0\n");
  EXPECT_EQ(out_.text(), "55\n6765\n");
}

// The notes' server reads until "\n" or "\0".
TEST_F(FibSessionTest, NulTerminatesARequest) {
  send("10\0" "12\0"sv);
  EXPECT_EQ(out_.text(), "55\n144\n");
}

TEST_F(FibSessionTest, ToleratesCrLf) {
  send("10\r");
  send("\n12\r\n");
  EXPECT_EQ(out_.text(), "55\n144\n");
}

// Issue 11, item 11: a client waiting for one answer per line must get one for an empty line.
TEST_F(FibSessionTest, EmptyLineGetsAnErrLine) {
  send("10\n\n \t\r\n20\n");
  EXPECT_EQ(out_.text(), "55\nERR empty request\nERR empty request\n6765\n");
  EXPECT_EQ(session_->requests(), 4U);
}

TEST_F(FibSessionTest, EmptyNulTerminatedRequestGetsAnErrLine) {
  send("\0" "5\0"sv);
  EXPECT_EQ(out_.text(), "ERR empty request\n5\n");
}

// A C client's send(buf, strlen(buf) + 1) of "5\n" asks one question.
TEST_F(FibSessionTest, NulRightAfterANewlineEndsTheSameRequest) {
  send("5\n\0" "6\r\n\0"sv);
  EXPECT_EQ(out_.text(), "5\n8\n");
  send("7\n");
  send("\0"sv);
  EXPECT_EQ(out_.text(), "5\n8\n13\n");
  EXPECT_EQ(session_->requests(), 3U);
}

TEST_F(FibSessionTest, ConnectionClosedAfterALineAsksNothingMore) {
  send("5\n");
  EXPECT_EQ(session_->end_of_input(out_), Verdict::close);
  EXPECT_EQ(out_.text(), "5\n");
}

TEST_F(FibSessionTest, AcceptsLeadingZerosAndSpaces) {
  send("007\n 8 \n");
  EXPECT_EQ(out_.text(), "13\n21\n");
}

TEST_F(FibSessionTest, NotANumberGetsAnErrLineAndTheConnectionStaysUsable) {
  EXPECT_EQ(send("abc\n10\n"), Verdict::keep_going);
  EXPECT_EQ(out_.text(), "ERR not a number: abc\n55\n");
  ASSERT_EQ(session_->complaints().size(), 1U);
  EXPECT_EQ(session_->complaints()[0], "not a number: abc");
}

TEST_F(FibSessionTest, NumbersWithTrailingTextAreNotNumbers) {
  send("12x\n1.5\n-\n");
  EXPECT_EQ(out_.text(), "ERR not a number: 12x\nERR not a number: 1.5\nERR not a number: -\n");
  EXPECT_EQ(session_->complaints().size(), 3U);
}

TEST_F(FibSessionTest, NegativeGetsAnErrLine) {
  send("-3\n");
  EXPECT_EQ(out_.text(), "ERR negative: -3\n");
  EXPECT_EQ(session_->complaints().size(), 1U);
}

TEST_F(FibSessionTest, AboveTenThousandIsTooLarge) {
  send("10001\n99999999999999999999999999\n10000000000000000000000000000000000000000000000000000\n3\n");
  const auto text = std::string(out_.text());
  EXPECT_EQ(text,
            "ERR too large: 10001 (max 10000)\n"
            "ERR too large: 99999999999999999999999999 (max 10000)\n"
            "ERR too large: 1000000000000000000000000000000000000000... (max 10000)\n"
            "2\n");
}

TEST_F(FibSessionTest, ErrLinesShowControlBytesAsQuestionMarks) {
  send("a\x1b[2Jb\n");
  EXPECT_EQ(out_.text(), "ERR not a number: a?[2Jb\n");
}

TEST_F(FibSessionTest, LineTooLongGetsOneErrLineThenTheNextLineIsAnswered) {
  SessionContext context;
  context.max_line = 8;
  start({}, context);
  send("123456");
  send("789");  // 9 bytes: one too many
  EXPECT_EQ(out_.text(), "ERR line too long (max 8 bytes)\n");
  send("0123456789");  // still the same line: no second ERR
  send("\n7\n");
  EXPECT_EQ(out_.text(), "ERR line too long (max 8 bytes)\n13\n");
  EXPECT_EQ(session_->complaints().size(), 1U);
}

TEST_F(FibSessionTest, LineOfExactlyMaxLineIsAccepted) {
  SessionContext context;
  context.max_line = 3;
  start({}, context);
  send("010\n");
  EXPECT_EQ(out_.text(), "55\n");
}

TEST_F(FibSessionTest, DefaultLimitIsInTheErrLine) {
  send(std::string(8193, '1'));
  send("\n5\n");
  EXPECT_EQ(out_.text(), "ERR line too long (max 8192 bytes)\n5\n");
}

TEST_F(FibSessionTest, LastLineWithoutTerminatorIsAnsweredAtEndOfInput) {
  send("10\n12");
  EXPECT_EQ(session_->end_of_input(out_), Verdict::close);
  EXPECT_EQ(out_.text(), "55\n144\n");
  EXPECT_EQ(session_->requests(), 2U);
}

TEST_F(FibSessionTest, EndOfInputAfterCompleteLinesAddsNothing) {
  send("10\n");
  EXPECT_EQ(session_->end_of_input(out_), Verdict::close);
  EXPECT_EQ(out_.text(), "55\n");
}

TEST_F(FibSessionTest, EndOfInputInsideATooLongLineAddsNothingMore) {
  SessionContext context;
  context.max_line = 2;
  start({}, context);
  send("12345");
  EXPECT_EQ(session_->end_of_input(out_), Verdict::close);
  EXPECT_EQ(out_.text(), "ERR line too long (max 2 bytes)\n");
}

// The notes' client reads the answer with int(s.recv(10)): fib(37) and its "\n" fit.
TEST_F(FibSessionTest, NotesClientRequestFitsItsTenByteRead) {
  send("37\n");
  EXPECT_EQ(out_.text(), "24157817\n");
}

TEST_F(FibSessionTest, IterativeIsNotCpuBound) { EXPECT_FALSE(session_->cpu_bound()); }

TEST_F(FibSessionTest, RecursiveIsCpuBound) {
  start(recursive());
  EXPECT_TRUE(session_->cpu_bound());
}

TEST_F(FibSessionTest, RecursiveAgreesWithIterative) {
  start(recursive());
  std::string requests;
  for (int n = 0; n <= 25; ++n) requests += std::to_string(n) + "\n";
  send(requests);
  const auto recursive_answers = std::string(out_.text());
  out_.clear();
  start({});
  send(requests);
  EXPECT_EQ(recursive_answers, out_.text());
  EXPECT_EQ(session_->requests(), 26U);
}

TEST_F(FibSessionTest, RecursiveStopsAt40) {
  start(recursive());
  send("41\n");
  EXPECT_EQ(out_.text(), "ERR too large: 41 (max 40 with --algorithm recursive)\n");
  EXPECT_EQ(session_->complaints().size(), 1U);
}

TEST(FibService, HasNoUdpForm) { EXPECT_EQ(make_udp("fib", {}), nullptr); }

// --request-timeout runs while a line is incomplete, and only then (Session::mid_request).
TEST_F(FibSessionTest, IsMidRequestFromTheFirstByteOfALineToItsEnd) {
  EXPECT_FALSE(session_->mid_request());
  send("1");
  EXPECT_TRUE(session_->mid_request());
  send("0\n");
  EXPECT_FALSE(session_->mid_request());
  send("7\n2");
  EXPECT_TRUE(session_->mid_request());
}

TEST_F(FibSessionTest, ALineTooLongStaysMidRequestWhileItsRestIsDiscarded) {
  SessionContext context;
  context.max_line = 4;
  start({}, context);
  send("123456789");
  EXPECT_TRUE(session_->mid_request());  // an endless line is a request that never completes
  send("\n");
  EXPECT_FALSE(session_->mid_request());
}

TEST_F(FibSessionTest, ALateRequestIsAnsweredWithAnErrLine) {
  send("12");
  session_->request_timed_out("request not complete within 30 s", out_);
  EXPECT_EQ(out_.text(), "ERR request not complete within 30 s\n");
}

}  // namespace
}  // namespace sockit::serve::services
