#include <gtest/gtest.h>

#include "serve/services/services.hpp"
#include "service_test_support.hpp"
#include "session_test_support.hpp"
#include "test_support.hpp"

namespace sockit::serve::services {
namespace {

using sockit::testing::offer;

using sockit::serve::testing::raw;
using sockit::testing::bytes_of;

std::optional<std::string> answer(std::string_view datagram, std::string& complaint) {
  return make_incr_udp({})->answer(bytes_of(datagram), {}, complaint);
}

// The notes' client: s.sendto(struct.pack("!h", 1), ...) and struct.unpack("!h", reply).
TEST(IncrDatagrams, AnswersBigEndianPlusOne) {
  std::string complaint;
  EXPECT_EQ(answer(raw({0x00, 0x01}), complaint), raw({0x00, 0x02}));
  EXPECT_EQ(answer(raw({0x01, 0xff}), complaint), raw({0x02, 0x00}));  // 511 -> 512: the carry crosses bytes
  EXPECT_TRUE(complaint.empty());
}

TEST(IncrDatagrams, NegativeNumbersAreTwosComplement) {
  std::string complaint;
  EXPECT_EQ(answer(raw({0xff, 0xff}), complaint), raw({0x00, 0x00}));  // -1 -> 0
  EXPECT_EQ(answer(raw({0xff, 0xfd}), complaint), raw({0xff, 0xfe}));  // -3 -> -2
}

TEST(IncrDatagrams, WrapsFrom32767ToMinus32768) {
  std::string complaint;
  EXPECT_EQ(answer(raw({0x7f, 0xff}), complaint), raw({0x80, 0x00}));
  EXPECT_EQ(answer(raw({0x80, 0x00}), complaint), raw({0x80, 0x01}));  // -32768 -> -32767
}

TEST(IncrDatagrams, WrongSizeGetsNoReplyAndAComplaint) {
  std::string complaint;
  EXPECT_FALSE(answer("hello", complaint).has_value());
  EXPECT_EQ(complaint, "expected 2 bytes, got 5");
  EXPECT_FALSE(answer("", complaint).has_value());
  EXPECT_EQ(complaint, "expected 2 bytes, got 0");
}

TEST(IncrSession, AnswersEachPairEvenWhenSplitAcrossChunks) {
  auto session = make_incr_tcp({})->new_session({});
  Output out;
  EXPECT_EQ(offer(*session, bytes_of(raw({0x00})), out), Verdict::keep_going);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(offer(*session, bytes_of(raw({0x05, 0x7f})), out), Verdict::keep_going);
  EXPECT_EQ(offer(*session, bytes_of(raw({0xff, 0xff, 0xff})), out), Verdict::keep_going);
  EXPECT_EQ(out.text(), raw({0x00, 0x06, 0x80, 0x00, 0x00, 0x00}));
  EXPECT_EQ(session->requests(), 3U);
}

TEST(IncrSession, HalfARequestAtEndOfInputIsAComplaint) {
  auto session = make_incr_tcp({})->new_session({});
  Output out;
  offer(*session, bytes_of(raw({0x00, 0x01, 0x00})), out);
  EXPECT_EQ(session->end_of_input(out), Verdict::close);
  EXPECT_EQ(out.text(), raw({0x00, 0x02}));
  ASSERT_EQ(session->complaints().size(), 1U);
}

TEST(IncrSession, WholeRequestsAtEndOfInputCloseQuietly) {
  auto session = make_incr_tcp({})->new_session({});
  Output out;
  offer(*session, bytes_of(raw({0x00, 0x01})), out);
  EXPECT_EQ(session->end_of_input(out), Verdict::close);
  EXPECT_TRUE(session->complaints().empty());
}

TEST(IncrSession, IsMidRequestBetweenTheTwoBytesOfARequest) {
  auto session = make_incr_tcp({})->new_session({});
  Output out;
  EXPECT_FALSE(session->mid_request());
  offer(*session, bytes_of(raw({0x00})), out);
  EXPECT_TRUE(session->mid_request());
  offer(*session, bytes_of(raw({0x29})), out);
  EXPECT_FALSE(session->mid_request());
  session->request_timed_out("late", out);  // no error message in this protocol: nothing added
  EXPECT_EQ(out.size(), 2u);
}

}  // namespace
}  // namespace sockit::serve::services
