#include "http/date.hpp"

#include <gtest/gtest.h>

using namespace sockit::http;

namespace {
constexpr std::int64_t k1994 = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT (RFC 9110's example)
constexpr std::int64_t k2025 = 1735689600;  // 2025-01-01
}  // namespace

TEST(FormatDate, WritesImfFixdate) {
  EXPECT_EQ(format_date(k1994), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(format_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(format_date(951782400), "Tue, 29 Feb 2000 00:00:00 GMT");
  EXPECT_EQ(format_date(-1), "Wed, 31 Dec 1969 23:59:59 GMT");
}

TEST(FormatDate, ClampsToFourDigitYears) {
  EXPECT_EQ(format_date(INT64_MAX), "Fri, 31 Dec 9999 23:59:59 GMT");
  EXPECT_EQ(format_date(INT64_MIN).substr(7, 9), " Jan 0000");
}

TEST(ParseDate, ReadsTheThreeFormats) {
  EXPECT_EQ(parse_date("Sun, 06 Nov 1994 08:49:37 GMT"), k1994);
  EXPECT_EQ(parse_date("Sunday, 06-Nov-94 08:49:37 GMT", k2025), k1994);
  EXPECT_EQ(parse_date("Sun Nov  6 08:49:37 1994"), k1994);
  EXPECT_EQ(parse_date("Sun Nov 06 08:49:37 1994"), k1994);
}

TEST(ParseDate, ReadsWhatItWrites) {
  for (std::int64_t t : {std::int64_t{0}, k1994, k2025, std::int64_t{4102444799}}) EXPECT_EQ(parse_date(format_date(t)), t);
}

TEST(ParseDate, PutsARfc850YearNoMoreThan50YearsAhead) {
  EXPECT_EQ(format_date(*parse_date("Friday, 01-Jan-75 00:00:00 GMT", k2025)).substr(12, 4), "2075");
  EXPECT_EQ(format_date(*parse_date("Friday, 01-Jan-76 00:00:00 GMT", k2025)).substr(12, 4), "1976");
  EXPECT_EQ(format_date(*parse_date("Friday, 01-Jan-00 00:00:00 GMT", k2025)).substr(12, 4), "2000");
}

TEST(ParseDate, RejectsAnythingElse) {
  for (const char* text : {"", "Sun, 06 Nov 1994 08:49:37 UTC", "sun, 06 Nov 1994 08:49:37 GMT", "Sun, 6 Nov 1994 08:49:37 GMT",
                           "Sun, 06 nov 1994 08:49:37 GMT", "Sun, 31 Feb 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT",
                           "Sun, 06 Nov 1994 08:60:00 GMT", "Sun, 06 Nov 1994 08:49:37 GMT ", "Sun, 06 Nov 94 08:49:37 GMT",
                           "Sun, 06 Nov 1994 08:49 GMT", "Sun, 06 Nov 1994 08:49:3x GMT", "Sun Nov  6 08:49:37 94",
                           "Sunday, 06-Nov-1994 08:49:37 GMT", "Sun, 06-Nov-94 08:49:37 GMT", "1994-11-06T08:49:37Z",
                           "Sun, +6 Nov 1994 08:49:37 GMT", "784111777"}) {
    EXPECT_EQ(parse_date(text), std::nullopt) << text;
  }
}
