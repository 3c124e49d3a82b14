#include "net/error.hpp"

#include <gtest/gtest.h>
#include <netdb.h>

#include <cerrno>

#include "net/result.hpp"

namespace sockit::net {
namespace {

TEST(Error, NamesTheCallTheAddressAndTheReason) {
  Error e = errno_error("connect", "127.0.0.1:9", ECONNREFUSED);
  EXPECT_STREQ(e.what(), "connect to 127.0.0.1:9 failed: Connection refused");
  EXPECT_EQ(e.code(), std::errc::connection_refused);
  EXPECT_EQ(e.call(), "connect");
  EXPECT_EQ(e.address(), "127.0.0.1:9");
}

TEST(Error, WithoutAnAddressSaysJustTheCall) {
  EXPECT_STREQ(errno_error("socket", {}, EMFILE).what(), "socket failed: Too many open files");
}

TEST(Error, CarriesGetaddrinfoMessages) {
  Error e("getaddrinfo", std::error_code(EAI_NONAME, gai_category()), "nowhere.invalid");
  EXPECT_EQ(std::string(e.what()),
            std::string("getaddrinfo for nowhere.invalid failed: ") + gai_strerror(EAI_NONAME));
}

TEST(Error, DetailFollowsInParentheses) {
  Error e("recv_exact", Errc::unexpected_eof, "127.0.0.1:80", "3 of 8 bytes arrived");
  EXPECT_NE(std::string(e.what()).find("(3 of 8 bytes arrived)"), std::string::npos);
  EXPECT_EQ(e.code(), Errc::unexpected_eof);
}

TEST(Result, HoldsAValueOrThrowsItsErrorOnValue) {
  Result<int> good = 7;
  EXPECT_TRUE(good.has_value());
  EXPECT_EQ(*good, 7);
  Result<int> bad = errno_error("bind", "0.0.0.0:80", EACCES);
  EXPECT_FALSE(bad);
  EXPECT_THROW(bad.value(), Error);
  Result<void> ok;
  EXPECT_NO_THROW(ok.value());
  Result<void> failed = errno_error("listen", {}, EADDRINUSE);
  EXPECT_THROW(failed.value(), std::system_error);
}

}  // namespace
}  // namespace sockit::net
