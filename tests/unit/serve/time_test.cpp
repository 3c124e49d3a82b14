#include <gtest/gtest.h>

#include "serve/services/services.hpp"
#include "service_test_support.hpp"
#include "test_support.hpp"

namespace sockit::serve::services {
namespace {

using sockit::serve::testing::fixed_clock;
using sockit::serve::testing::raw;
using sockit::testing::bytes_of;

std::string time_over_tcp(const SessionContext& context) {
  auto session = make_time_tcp({})->new_session(context);
  Output out;
  EXPECT_EQ(session->open(out), Verdict::close);
  return std::string(out.text());
}

// RFC 868: "the time is the number of seconds since 00:00 (midnight) 1 January 1900 GMT";
// its example says 1970-01-01 00:00 GMT is 2,208,988,800 = 0x83AA7E80.
TEST(TimeSession, UnixEpochIsRfc868Example) {
  EXPECT_EQ(time_over_tcp(fixed_clock(0)), raw({0x83, 0xaa, 0x7e, 0x80}));
}

// 2026-11-22 10:00:00 UTC is Unix 1795341600; + 2208988800 = 4004330400 = 0xEEAD3BA0.
TEST(TimeSession, SendsBigEndianSecondsSince1900OnOpenThenCloses) {
  EXPECT_EQ(time_over_tcp(fixed_clock(1795341600)), raw({0xee, 0xad, 0x3b, 0xa0}));
}

TEST(TimeSession, DropsTheFractionOfASecond) {
  EXPECT_EQ(time_over_tcp(fixed_clock(1795341600, 999'999)), raw({0xee, 0xad, 0x3b, 0xa0}));
}

// The 32-bit count wraps on 2036-02-07 06:28:16 UTC (Unix 2085978496).
TEST(TimeSession, WrapsModulo2To32In2036) {
  EXPECT_EQ(time_over_tcp(fixed_clock(2085978496)), raw({0, 0, 0, 0}));
  EXPECT_EQ(time_over_tcp(fixed_clock(2085978497)), raw({0, 0, 0, 1}));
}

TEST(TimeSession, ReadsTheClockWhenTheConnectionOpens) {
  std::int64_t seconds = 0;
  SessionContext context;
  context.now = [&seconds] { return std::chrono::system_clock::time_point{std::chrono::seconds{seconds}}; };
  auto session = make_time_tcp({})->new_session(context);
  seconds = 1;
  Output out;
  session->open(out);
  EXPECT_EQ(out.text(), raw({0x83, 0xaa, 0x7e, 0x81}));
}

TEST(TimeDatagrams, AnswersAnyDatagramWithFourBytes) {
  std::string complaint;
  auto service = make_time_udp({});
  EXPECT_EQ(service->answer(bytes_of(""), fixed_clock(0), complaint), raw({0x83, 0xaa, 0x7e, 0x80}));
  EXPECT_EQ(service->answer(bytes_of("time please"), fixed_clock(1795341600), complaint),
            raw({0xee, 0xad, 0x3b, 0xa0}));
  EXPECT_TRUE(complaint.empty());
}

}  // namespace
}  // namespace sockit::serve::services
