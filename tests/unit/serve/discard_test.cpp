#include <gtest/gtest.h>

#include "serve/services/services.hpp"
#include "session_test_support.hpp"
#include "test_support.hpp"

namespace sockit::serve::services {
namespace {

using sockit::testing::offer;

using sockit::testing::bytes_of;

TEST(DiscardSession, SendsNothingAndKeepsTheConnection) {
  auto session = make_discard_tcp({})->new_session({});
  Output out;
  EXPECT_EQ(session->open(out), Verdict::keep_going);
  EXPECT_EQ(offer(*session, bytes_of("hello\n"), out), Verdict::keep_going);
  EXPECT_EQ(offer(*session, bytes_of(std::string_view("\0\xff", 2)), out), Verdict::keep_going);
  EXPECT_TRUE(out.empty());
}

TEST(DiscardSession, CountsEveryChunkAsARequest) {
  auto session = make_discard_tcp({})->new_session({});
  Output out;
  offer(*session, bytes_of("a"), out);
  offer(*session, bytes_of("bc"), out);
  EXPECT_EQ(session->requests(), 2U);
}

TEST(DiscardDatagrams, NoReplyToAnyDatagram) {
  std::string complaint;
  auto service = make_discard_udp({});
  EXPECT_FALSE(service->answer(bytes_of("ping"), {}, complaint).has_value());
  EXPECT_FALSE(service->answer(bytes_of(""), {}, complaint).has_value());
  EXPECT_TRUE(complaint.empty());
}

}  // namespace
}  // namespace sockit::serve::services
