#include <gtest/gtest.h>

#include "serve/services/services.hpp"
#include "session_test_support.hpp"
#include "test_support.hpp"

namespace sockit::serve::services {
namespace {

using sockit::testing::offer;

using sockit::testing::bytes_of;
using namespace std::string_view_literals;

class UpperSessionTest : public ::testing::Test {
 protected:
  Verdict send(std::string_view text) { return offer(*session_, bytes_of(text), out_); }
  std::unique_ptr<Session> session_ = make_upper_tcp({})->new_session({});
  Output out_;
};

// The notes' client sends sys.stdin.readline().strip() and waits for s.recv(2048).
TEST_F(UpperSessionTest, AnswersTextWithoutNewlineAtOnce) {
  EXPECT_EQ(send("hello"), Verdict::keep_going);
  EXPECT_EQ(out_.text(), "HELLO");
  EXPECT_EQ(send("world"), Verdict::keep_going);
  EXPECT_EQ(out_.text(), "HELLOWORLD");
}

TEST_F(UpperSessionTest, ChangesOnlyAsciiLowercaseLetters) {
  send("az AZ 09 `{@[ caf\xc3\xa9 \0\xff\r\n"sv);
  EXPECT_EQ(out_.text(), "AZ AZ 09 `{@[ CAF\xc3\xa9 \0\xff\r\n"sv);
}

TEST_F(UpperSessionTest, ChunkThatIsExactlyQuitEndsTheSessionUnanswered) {
  send("hi");
  EXPECT_EQ(send("quit"), Verdict::close);
  EXPECT_EQ(out_.text(), "HI");
}

TEST_F(UpperSessionTest, QuitLineEndsTheSessionAndIsNotAnswered) {
  EXPECT_EQ(send("one\nquit\n"), Verdict::close);
  EXPECT_EQ(out_.text(), "ONE\n");
}

TEST_F(UpperSessionTest, QuitLineWithCrLfEndsTheSession) {
  EXPECT_EQ(send("quit\r\n"), Verdict::close);
  EXPECT_TRUE(out_.empty());
}

TEST_F(UpperSessionTest, NothingAfterTheQuitLineIsAnswered) {
  EXPECT_EQ(send("quit\nmore text\n"), Verdict::close);
  EXPECT_TRUE(out_.empty());
}

TEST_F(UpperSessionTest, QuitLineSplitAcrossChunksStillEndsTheSession) {
  EXPECT_EQ(send("a\nqu"), Verdict::keep_going);
  EXPECT_EQ(send("it"), Verdict::keep_going);
  EXPECT_EQ(send("\n"), Verdict::close);
  // What arrived before the line was complete had been answered already; the end is not.
  EXPECT_EQ(out_.text(), "A\nQUIT");
}

TEST_F(UpperSessionTest, LinesThatOnlyResembleQuitAreAnswered) {
  EXPECT_EQ(send("quitter\nQuit\nxquit\n quit\n"), Verdict::keep_going);
  EXPECT_EQ(out_.text(), "QUITTER\nQUIT\nXQUIT\n QUIT\n");
}

TEST_F(UpperSessionTest, QuitInsideALongerChunkIsText) {
  EXPECT_EQ(send("please quit"), Verdict::keep_going);
  EXPECT_EQ(send("quit now"), Verdict::keep_going);
  EXPECT_EQ(out_.text(), "PLEASE QUITQUIT NOW");
}

// Found by fuzz/session_upper: with room for 4 bytes, "quitter\n" was cut to "quit" before the
// quit-chunk check and ended the session.
TEST_F(UpperSessionTest, ChunkCutToFourBytesByTheBudgetIsNotTheQuitChunk) {
  out_.set_budget(4);
  const auto taken = session_->receive(bytes_of("quitter\n"), out_);
  EXPECT_EQ(taken.verdict, Verdict::keep_going);
  EXPECT_EQ(taken.bytes, 4U);
  EXPECT_EQ(out_.text(), "QUIT");
}

TEST_F(UpperSessionTest, CountsAnsweredChunks) {
  send("a");
  send("b\n");
  EXPECT_EQ(session_->requests(), 2U);
}

TEST(UpperDatagrams, AnswersEachDatagramInUpperCase) {
  std::string complaint;
  EXPECT_EQ(make_upper_udp({})->answer(bytes_of("Hello, world 1\n"), {}, complaint), "HELLO, WORLD 1\n");
  EXPECT_TRUE(complaint.empty());
}

// The notes' server breaks its loop on b'quit'; ours only ignores it (DESIGN: a client can never
// stop the server).
TEST(UpperDatagrams, QuitGetsNoReply) {
  std::string complaint;
  auto service = make_upper_udp({});
  EXPECT_FALSE(service->answer(bytes_of("quit"), {}, complaint).has_value());
  EXPECT_FALSE(service->answer(bytes_of("quit\n"), {}, complaint).has_value());
  EXPECT_FALSE(service->answer(bytes_of("quit\r\n"), {}, complaint).has_value());
  EXPECT_EQ(service->answer(bytes_of("quits"), {}, complaint), "QUITS");
  EXPECT_TRUE(complaint.empty());
}

}  // namespace
}  // namespace sockit::serve::services
