#include "tools/scan_identify.hpp"

#include <gtest/gtest.h>

#include "tools/scan.hpp"

namespace sockit::tools {
namespace {

using std::chrono::system_clock;

// 2026-11-22 10:00:00 UTC.
const system_clock::time_point kNow = system_clock::from_time_t(1795341600);

std::string rfc868(std::uint32_t seconds) {
  return {static_cast<char>(seconds >> 24), static_cast<char>(seconds >> 16), static_cast<char>(seconds >> 8),
          static_cast<char>(seconds)};
}

TEST(IdentifyService, EchoSendsTheProbeBack) {
  auto id = identify_service(kBannerProbe, true, false, kNow);
  EXPECT_EQ(id.service, "echo");
  EXPECT_EQ(id.banner, "HEAD / HTTP/1.0");
}

TEST(IdentifyService, HttpStatusLineAndServerHeader) {
  auto id = identify_service("HTTP/1.1 200 OK\r\nDate: x\r\nserver:  sockit \r\nContent-Length: 3\r\n\r\n", true,
                             true, kNow);
  EXPECT_EQ(id.service, "http");
  EXPECT_EQ(id.server, "sockit");
  EXPECT_EQ(id.banner, "HTTP/1.1 200 OK");
}

TEST(IdentifyService, DaytimeInetdAndIsoLines) {
  EXPECT_EQ(identify_service("Sun Nov 22 10:00:00 2026\r\n", false, true, kNow).service, "daytime");
  EXPECT_EQ(identify_service("Tue Dec  1 21:04:00 2026\r\n", false, true, kNow).service, "daytime");
  EXPECT_EQ(identify_service("2026-11-22T10:00:00Z\n", false, true, kNow).service, "daytime");
  EXPECT_EQ(identify_service("SSH-2.0-OpenSSH_9.2\r\n", false, false, kNow).service, "");
}

TEST(IdentifyService, TimeIsFourBytesNearOurClockThenEof) {
  const std::uint32_t now1900 = 1795341600u + 2208988800u;
  auto id = identify_service(rfc868(now1900 + 5), false, true, kNow);
  EXPECT_EQ(id.service, "time");
  EXPECT_EQ(id.banner.size(), 4u);
  EXPECT_EQ(identify_service(rfc868(now1900), false, false, kNow).service, "");          // no EOF yet
  EXPECT_EQ(identify_service(rfc868(now1900 - 86400 * 30), false, true, kNow).service, "");  // a month off
  EXPECT_EQ(identify_service("abcd", false, true, kNow).service, "");
}

TEST(IdentifyService, ChargenRotatingPatternWrapsAtTilde) {
  std::string line;
  for (int i = 0; i < 72; ++i) line += static_cast<char>(' ' + (90 + i) % 95);
  EXPECT_EQ(identify_service(line + "\r\n", false, false, kNow).service, "chargen");
  EXPECT_EQ(identify_service("abcdefghijklmnopqrsXuvwxyz\r\n", false, false, kNow).service, "");
}

TEST(IdentifyService, SilenceAndUnknownBytesNameNothing) {
  EXPECT_EQ(identify_service("", true, false, kNow).service, "");
  EXPECT_EQ(identify_service("220 mail ESMTP\r\n", false, false, kNow).service, "");
}

TEST(IdentifyService, BannerIsTheFirstLineCutAtTheMaximum) {
  auto id = identify_service(std::string(1000, 'a') + "\n", false, false, kNow);
  EXPECT_EQ(id.banner.size(), kBannerMax);
}

TEST(BannerComplete, StopsAtALineEofOrTheCap) {
  EXPECT_FALSE(banner_complete("", false, false));
  EXPECT_TRUE(banner_complete("", false, true));
  EXPECT_FALSE(banner_complete("\x01\n\x02", false, false));  // time's 4 bytes may hold a '\n'
  EXPECT_TRUE(banner_complete("Sun Nov 22 10:00:00 2026\r\n", false, false));
  EXPECT_TRUE(banner_complete(std::string(kBannerMax, 'x'), false, false));
  EXPECT_FALSE(banner_complete("HEAD / HTTP", true, false));
  EXPECT_TRUE(banner_complete(kBannerProbe, true, false));
  EXPECT_FALSE(banner_complete("HTTP/1.1 200 OK\r\nServer: x\r\n", true, false));
  EXPECT_TRUE(banner_complete("HTTP/1.1 200 OK\r\nServer: x\r\n\r\n", true, false));
  EXPECT_TRUE(banner_complete(std::string(kBannerReadMax, 'x'), true, false));
}

TEST(EscapeBanner, ShowsEveryByteAsPrintableText) {
  EXPECT_EQ(escape_banner(std::string("a\\b\r\n\t\x00\x7f\xff", 9)), "a\\\\b\\r\\n\\t\\x00\\x7f\\xff");
}

}  // namespace
}  // namespace sockit::tools
