#include "tools/nc_broker_queue.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sockit::tools {
namespace {

TEST(BrokerOutQueue, GivesBytesBackInOrderAcrossPartialSends) {
  OutQueue q;
  q.append("hello ");
  q.append("world");
  EXPECT_EQ(q.size(), 11u);
  q.consumed(3);
  EXPECT_EQ(q.front(), "lo world");
  q.append("!");
  EXPECT_EQ(q.front(), "lo world!");
  q.consumed(9);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.footprint(), std::string().capacity());
}

TEST(BrokerOutQueue, MemoryFollowsWhatWaitsNotWhatPassedThrough) {
  OutQueue q;
  const std::string block(4096, 'x');
  for (int i = 0; i < 10000; ++i) {  // 40 MB through, at most two blocks waiting
    q.append(block);
    q.consumed(q.size() > block.size() ? block.size() : block.size() / 2);
    ASSERT_LE(q.footprint(), 8 * block.size()) << "after " << i << " blocks";
  }
}

}  // namespace
}  // namespace sockit::tools
