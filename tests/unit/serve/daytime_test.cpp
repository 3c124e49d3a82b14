#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

#include "serve/services/services.hpp"
#include "service_test_support.hpp"
#include "test_support.hpp"

namespace sockit::serve::services {
namespace {

using sockit::serve::testing::fixed_clock;
using sockit::testing::bytes_of;

constexpr std::int64_t kSunday22Nov2026At10 = 1795341600;  // 2026-11-22 10:00:00 UTC
constexpr std::int64_t kMonday2Nov2026 = 1793610307;       // 2026-11-02 09:05:07 UTC

// Daytime is local time: each test chooses the zone, and puts the process's back.
class DaytimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* tz = std::getenv("TZ")) saved_tz_ = tz;
    use_zone("UTC");
  }
  void TearDown() override {
    if (saved_tz_) {
      setenv("TZ", saved_tz_->c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }
  static void use_zone(const char* tz) {
    setenv("TZ", tz, 1);
    tzset();
  }
  static std::string over_tcp(const ServiceOptions& options, const SessionContext& context) {
    auto session = make_daytime_tcp(options)->new_session(context);
    Output out;
    EXPECT_EQ(session->open(out), Verdict::close);
    return std::string(out.text());
  }

 private:
  std::optional<std::string> saved_tz_;
};

ServiceOptions iso() {
  ServiceOptions options;
  options.daytime_format = "iso";
  return options;
}

TEST_F(DaytimeTest, DefaultIsInetdCtimeLineOnOpenThenClose) {
  EXPECT_EQ(over_tcp({}, fixed_clock(kSunday22Nov2026At10)), "Sun Nov 22 10:00:00 2026\r\n");
}

TEST_F(DaytimeTest, InetdFormatPadsTheDayWithASpaceLikeCtime) {
  EXPECT_EQ(over_tcp({}, fixed_clock(kMonday2Nov2026)), "Mon Nov  2 09:05:07 2026\r\n");
}

TEST_F(DaytimeTest, InetdFormatMatchesCtimeOfTheSameTime) {
  const std::time_t t = kMonday2Nov2026;
  char expected[26];
  ASSERT_NE(ctime_r(&t, expected), nullptr);
  std::string line(expected, 24);
  EXPECT_EQ(over_tcp({}, fixed_clock(kMonday2Nov2026)), line + "\r\n");
}

TEST_F(DaytimeTest, UsesLocalTimeOfTheZone) {
  use_zone("EET-2");  // two hours east of UTC, no daylight saving rule
  EXPECT_EQ(over_tcp({}, fixed_clock(kSunday22Nov2026At10)), "Sun Nov 22 12:00:00 2026\r\n");
}

TEST_F(DaytimeTest, IsoFormatIsPythonIsoformatWithCrLfOverTcp) {
  EXPECT_EQ(over_tcp(iso(), fixed_clock(kSunday22Nov2026At10, 123456)), "2026-11-22T10:00:00.123456\r\n");
}

TEST_F(DaytimeTest, IsoFormatLeavesOutAZeroFractionLikePython) {
  EXPECT_EQ(over_tcp(iso(), fixed_clock(kSunday22Nov2026At10)), "2026-11-22T10:00:00\r\n");
}

TEST_F(DaytimeTest, IsoFormatKeepsLeadingZerosOfTheFraction) {
  EXPECT_EQ(over_tcp(iso(), fixed_clock(kMonday2Nov2026, 42)), "2026-11-02T09:05:07.000042\r\n");
}

TEST_F(DaytimeTest, DatagramInInetdFormatEndsWithCrLf) {
  std::string complaint;
  EXPECT_EQ(make_daytime_udp({})->answer(bytes_of("x"), fixed_clock(kSunday22Nov2026At10), complaint),
            "Sun Nov 22 10:00:00 2026\r\n");
  EXPECT_TRUE(complaint.empty());
}

// The notes' UDP time service: s.sendto(now.isoformat().encode("utf-8"), sender), no line end.
TEST_F(DaytimeTest, DatagramInIsoFormatIsExactlyTheIsoformatString) {
  std::string complaint;
  EXPECT_EQ(make_daytime_udp(iso())->answer(bytes_of("time"), fixed_clock(kSunday22Nov2026At10, 500000), complaint),
            "2026-11-22T10:00:00.500000");
}

}  // namespace
}  // namespace sockit::serve::services
