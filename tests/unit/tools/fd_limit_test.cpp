#include "tools/fd_limit.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>

namespace sockit::tools {
namespace {

TEST(RaiseDescriptorLimit, ReturnsTheSoftLimitNowInForceAndNeverLowersIt) {
  rlimit before{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &before), 0);
  const auto limit = raise_descriptor_limit();
  rlimit after{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &after), 0);
  EXPECT_EQ(limit, after.rlim_cur);
  EXPECT_GE(after.rlim_cur, before.rlim_cur);
  EXPECT_EQ(after.rlim_max, before.rlim_max);
}

}  // namespace
}  // namespace sockit::tools
