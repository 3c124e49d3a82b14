#include "cli/option_checks.hpp"

#include <gtest/gtest.h>

#include <cstddef>

namespace sockit::cli::checks {
namespace {

// The message check_whole gives `text`, and what the text reads as afterwards.
std::string whole_message(std::string text, std::uint64_t min, std::uint64_t max) {
  return check_whole(text, min, max);
}

TEST(CheckWhole, LeadingZerosAreDecimalNotOctal) {
  std::string text = "010";
  EXPECT_EQ(check_whole(text, 0, 100), "");
  EXPECT_EQ(text, "10");
}

TEST(CheckWhole, NegativeIsRefusedNotWrapped) {
  EXPECT_EQ(whole_message("-5", 1, 1000), "must be greater than 0 (got -5)");
  EXPECT_EQ(whole_message("-5", 0, 1000), "must not be negative (got -5)");
}

TEST(CheckWhole, SaysTheBoundThatWasCrossed) {
  EXPECT_EQ(whole_message("0", 1, 10), "must be greater than 0 (got 0)");
  EXPECT_EQ(whole_message("3", 4, 10), "must be at least 4 (got 3)");
  EXPECT_EQ(whole_message("99999", 1, 65535), "must be at most 65535 (got 99999)");
  EXPECT_EQ(whole_message("99999999999999999999999", 1, 65535), "must be at most 65535 (got 99999999999999999999999)");
}

TEST(CheckWhole, RefusesWhatIsNotAWholeNumber) {
  for (const char* text : {"abc", "1.5", "1e3", "0x10", "nan", "inf", " 5", "5 ", "+5"})
    EXPECT_EQ(whole_message(text, 0, 100), std::string("'") + text + "' is not a whole number") << text;
  EXPECT_EQ(whole_message("", 0, 100), "must be a whole number, not empty");
}

TEST(CheckWhole, TakesItsWholeRange) {
  std::string text = "18446744073709551615";
  EXPECT_EQ(check_whole(text, 0, ~std::uint64_t{0}), "");
  text = "18446744073709551616";
  EXPECT_NE(check_whole(text, 0, ~std::uint64_t{0}), "");
}

std::string real_message(std::string text, double min, bool above_min, double max) {
  return check_real(text, min, above_min, max);
}

TEST(CheckReal, NeverPrintsDblMax) {
  const double huge = 1.7976931348623157e308;
  EXPECT_EQ(real_message("0", 0, true, huge), "must be greater than 0 (got 0)");
  EXPECT_EQ(real_message("-1", 0, false, huge), "must not be negative (got -1)");
}

TEST(CheckReal, RefusesNanAndInfinity) {
  EXPECT_EQ(real_message("nan", 0, false, 10), "'nan' is not a number");
  EXPECT_EQ(real_message("NaN", 0, false, 10), "'NaN' is not a number");
  EXPECT_EQ(real_message("inf", 0, false, 1e300), "must be a finite number (got inf)");
  EXPECT_EQ(real_message("-inf", 0, false, 10), "must not be negative (got -inf)");
  EXPECT_EQ(real_message("1e400", 0, false, 1e300), "must be a finite number (got 1e400)");
}

TEST(CheckReal, RefusesHexTextAndEmpty) {
  EXPECT_EQ(real_message("0x10", 0, false, 100), "'0x10' is not a number");
  EXPECT_EQ(real_message("1s", 0, false, 100), "'1s' is not a number");
  EXPECT_EQ(real_message("", 0, false, 100), "must be a number, not empty");
}

TEST(CheckReal, SaysTheBoundThatWasCrossed) {
  EXPECT_EQ(real_message("1e30", 0, true, kMaxSeconds), "must be at most 31536000 (got 1e30)");
  EXPECT_EQ(real_message("0.001", 0.01, false, 10), "must be at least 0.01 (got 0.001)");
}

TEST(CheckReal, AcceptsDecimalsAndExponents) {
  std::string text = "2.5";
  EXPECT_EQ(check_real(text, 0, true, 10), "");
  EXPECT_EQ(text, "2.5");
  text = "1e-3";
  EXPECT_EQ(check_real(text, 0, true, 10), "");
  EXPECT_EQ(text, "0.001");
}

TEST(CheckPortText, NumbersMustBePorts) {
  EXPECT_EQ(check_port_text("80", false), "");
  EXPECT_EQ(check_port_text("99999", false), "port 99999 is not from 1 to 65535");
  EXPECT_EQ(check_port_text("0", false), "port 0 is not from 1 to 65535");
  EXPECT_EQ(check_port_text("0", true), "");
  EXPECT_EQ(check_port_text("-1", true), "port -1 is not from 0 to 65535");
}

TEST(CheckPortText, NamesPassEmptyAndJunkDoNot) {
  EXPECT_EQ(check_port_text("http", false), "");
  EXPECT_EQ(check_port_text("http-alt", false), "");
  EXPECT_EQ(check_port_text("", false), "a port must not be empty");
  EXPECT_EQ(check_port_text("8 0", false), "'8 0' is not a port number or a service name");
}

TEST(CheckHostText, AddressesAndNamesPass) {
  for (const char* host : {"127.0.0.1", "127.1", "::1", "fe80::1%lo", "localhost", "www.example.org", "a_b.local",
                           "example.org."})
    EXPECT_EQ(check_host_text(host), "") << host;
}

TEST(CheckHostText, EmptyAndMalformedDoNot) {
  EXPECT_EQ(check_host_text(""), "a host must not be empty");
  for (const char* host : {"[::1]", "127.0.0.1:80", "300.1.1.1", "has space", "-x", "a..b", "::1::2"})
    EXPECT_EQ(check_host_text(host), std::string("'") + host + "' is not a host name or an IP address") << host;
}

TEST(CheckHostPortText, HostAndPortAreCheckedEach) {
  EXPECT_EQ(check_host_port_text("127.0.0.1:80", false), "");
  EXPECT_EQ(check_host_port_text("[::1]:0", true), "");
  EXPECT_EQ(check_host_port_text("localhost:http", false), "");
  EXPECT_EQ(check_host_port_text("127.0.0.1:0", false), "port 0 is not from 1 to 65535");
  EXPECT_EQ(check_host_port_text("127.0.0.1:99999", true), "port 99999 is not from 0 to 65535");
  EXPECT_EQ(check_host_port_text("300.1.1.1:80", false), "'300.1.1.1' is not a host name or an IP address");
  EXPECT_EQ(check_host_port_text(":80", false), "a host must not be empty");
  EXPECT_EQ(check_host_port_text("127.0.0.1:", false), "'127.0.0.1:' is not HOST:PORT (missing port after ':')");
  EXPECT_EQ(check_host_port_text("", false), "must not be empty (HOST:PORT)");
  EXPECT_EQ(check_host_port_text("127.0.0.1", false), "'127.0.0.1' is not HOST:PORT (expected host:port)");
}

TEST(Validators, ParseThroughCli11AndNameTheOption) {
  CLI::App app;
  unsigned count = 7;
  double timeout = 1;
  app.add_option("--count", count)->transform(whole<unsigned>(1, 100));
  app.add_option("--timeout", timeout)->transform(positive_seconds());
  app.parse("--count 010 --timeout 2.5", false);
  EXPECT_EQ(count, 10u);
  EXPECT_EQ(timeout, 2.5);
  try {
    app.parse("--count -5", false);
    FAIL() << "--count -5 was accepted";
  } catch (const CLI::ValidationError& e) {
    EXPECT_STREQ(e.what(), "--count: must be greater than 0 (got -5)");
  }
}

}  // namespace
}  // namespace sockit::cli::checks
