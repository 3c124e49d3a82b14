#include "serve/output.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <memory>

namespace sockit::serve {
namespace {

std::shared_ptr<const net::Fd> some_file() {
  return std::make_shared<const net::Fd>(::memfd_create("output_test", MFD_CLOEXEC));
}

TEST(Output, BytesThatAFileRangeFollowsAtOnceAreMarkedForOneSegment) {
  Output out;
  out.append("head");
  out.append(FileRange{some_file(), 0, 100});
  out.append("tail");

  auto piece = out.front();
  EXPECT_EQ(piece.size(), 4u);
  EXPECT_TRUE(piece.file_follows);  // sent with MSG_MORE: the head waits for its body
  out.consume(4);

  piece = out.front();
  ASSERT_TRUE(piece.is_file());
  EXPECT_EQ(piece.length, 100u);
  out.consume(100);

  piece = out.front();
  EXPECT_EQ(piece.size(), 4u);
  EXPECT_FALSE(piece.file_follows);  // nothing after it: it must leave at once
}

TEST(Output, BytesAloneAreNeverHeldBack) {
  Output out;
  out.append("answer\n");
  EXPECT_FALSE(out.front().file_follows);
}

TEST(Output, ReleaseGivesEverythingBackAndTheOutputWorksAfterwards) {
  Output out;
  out.append(std::string(4096, 'x'));
  out.append(FileRange{some_file(), 0, 10});
  out.consume(out.front().size());
  out.consume(out.front().size());
  ASSERT_TRUE(out.empty());
  out.release();
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(out.bytes().size(), 0u);

  out.append("again");
  EXPECT_EQ(out.text(), "again");
  EXPECT_EQ(out.size(), 5u);
}

}  // namespace
}  // namespace sockit::serve
