#include <gtest/gtest.h>

#include "serve/services/services.hpp"
#include "session_test_support.hpp"
#include "test_support.hpp"

namespace sockit::serve::services {
namespace {

using sockit::testing::offer;

using sockit::testing::bytes_of;

TEST(EchoSession, ReturnsEveryByteIncludingNul) {
  auto service = make_echo_tcp({});
  auto session = service->new_session({});
  Output out;
  EXPECT_EQ(session->open(out), Verdict::keep_going);
  EXPECT_EQ(offer(*session, bytes_of(std::string_view("a\0b", 3)), out), Verdict::keep_going);
  EXPECT_EQ(offer(*session, bytes_of("\xff\n"), out), Verdict::keep_going);
  EXPECT_EQ(out.text(), std::string_view("a\0b\xff\n", 5));
}

TEST(EchoDatagrams, AnswerIsTheDatagram) {
  std::string complaint;
  EXPECT_EQ(make_echo_udp({})->answer(bytes_of("ping"), {}, complaint), "ping");
  EXPECT_TRUE(complaint.empty());
}

}  // namespace
}  // namespace sockit::serve::services
