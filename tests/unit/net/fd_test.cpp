#include "net/fd.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>

namespace sockit::net {
namespace {

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

TEST(Fd, ClosesItsDescriptorWhenDestroyed) {
  int raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  { Fd fd(raw); EXPECT_TRUE(is_open(raw)); }
  EXPECT_FALSE(is_open(raw));
}

TEST(Fd, MoveTransfersOwnershipAndClosesOnce) {
  Fd a(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  const int raw = a.get();
  Fd b(std::move(a));
  EXPECT_FALSE(a.valid());
  EXPECT_EQ(b.get(), raw);
  Fd c;
  c = std::move(b);
  EXPECT_EQ(c.get(), raw);
  EXPECT_TRUE(is_open(raw));
  c.reset();
  EXPECT_FALSE(is_open(raw));
}

TEST(Fd, ReleaseHandsTheDescriptorOver) {
  Fd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  const int raw = fd.release();
  EXPECT_FALSE(fd.valid());
  EXPECT_TRUE(is_open(raw));
  Fd again(raw);  // closes it
}

}  // namespace
}  // namespace sockit::net
