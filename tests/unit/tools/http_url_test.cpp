#include <gtest/gtest.h>

#include <stdexcept>

#include "tools/http_url.hpp"

namespace sockit::tools {
namespace {

TEST(HttpUrl, HostPortAndPathAreSplit) {
  const auto url = parse_http_url("http://127.0.0.1:8080/files/a.txt?x=1#top");
  EXPECT_EQ(url.host, "127.0.0.1");
  EXPECT_EQ(url.port, "8080");
  EXPECT_EQ(url.path, "/files/a.txt?x=1");
  EXPECT_EQ(url.authority, "127.0.0.1:8080");
}

TEST(HttpUrl, PortDefaultsToEightyAndPathToSlash) {
  const auto url = parse_http_url("HTTP://localhost");
  EXPECT_EQ(url.host, "localhost");
  EXPECT_EQ(url.port, "80");
  EXPECT_EQ(url.path, "/");
  EXPECT_EQ(url.authority, "localhost");
  EXPECT_EQ(parse_http_url("http://localhost?q").path, "/?q");
}

TEST(HttpUrl, BracketedIpv6LosesItsBracketsButTheHostFieldKeepsThem) {
  const auto url = parse_http_url("http://[::1]:9/x");
  EXPECT_EQ(url.host, "::1");
  EXPECT_EQ(url.port, "9");
  EXPECT_EQ(url.authority, "[::1]:9");
  EXPECT_EQ(parse_http_url("http://[::1]/").port, "80");
}

TEST(HttpUrl, WhatIsNoHttpUrlIsRejectedWithTheReason) {
  for (const char* bad : {"https://127.0.0.1/", "ftp://x/", "127.0.0.1:80", "http://", "http://:80/", "http://h:/",
                          "http://u@h/", "http://[::1/", "http://[::1]x/", "http://::1/", "http://h/a b",
                          "http://h/\xc3\xa9", "http://[]:80/"})
    EXPECT_THROW(parse_http_url(bad), std::invalid_argument) << bad;
  try {
    parse_http_url("https://example.test/");
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "'https://example.test/' is not an http:// URL: https needs TLS, which sockit bench does not speak");
  }
}

TEST(HttpUrl, OnlySchemesMakeAUrl) {
  EXPECT_TRUE(looks_like_url("http://x/"));
  EXPECT_TRUE(looks_like_url("https://x/"));
  EXPECT_FALSE(looks_like_url("127.0.0.1:80"));
  EXPECT_FALSE(looks_like_url("unix:/tmp/s"));
}

}  // namespace
}  // namespace sockit::tools
