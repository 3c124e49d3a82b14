#include <gtest/gtest.h>

#include "cascade/downloader_window.hpp"

namespace sockit::cascade {
namespace {

using namespace std::chrono_literals;
using Clock = RequestWindow::Clock;

const Clock::time_point kT0{};

TEST(RequestWindow, StartsAtTwoRequests) {
  RequestWindow window(64 << 10, 32);
  EXPECT_EQ(window.depth(), RequestWindow::kMin);
  window.update(kT0);
  EXPECT_EQ(window.depth(), RequestWindow::kMin);
}

TEST(RequestWindow, CoversThreeSecondsOfWhatTheConnectionBrings) {
  RequestWindow window(64 << 10, 32);
  window.update(kT0);
  window.received(5 * (64 << 10) / 10);  // 5 blocks a second, over 100 ms
  window.update(kT0 + 100ms);
  EXPECT_DOUBLE_EQ(window.rate(), 5.0 * (64 << 10));
  EXPECT_EQ(window.depth(), 16u) << "five blocks a second for kAhead (3 s), and one to grow by";
}

TEST(RequestWindow, AFastConnectionGetsTheMostAndASlowOneTheLeast) {
  RequestWindow fast(1 << 20, 8);
  fast.update(kT0);
  fast.received(100 << 20);
  fast.update(kT0 + 100ms);
  EXPECT_EQ(fast.depth(), 8u);
  RequestWindow slow(1 << 20, 8);
  slow.update(kT0);
  slow.received(10 << 10);
  slow.update(kT0 + 1s);
  EXPECT_EQ(slow.depth(), RequestWindow::kMin);
}

TEST(RequestWindow, SamplesShorterThanTheMinimumWait) {
  RequestWindow window(64 << 10, 32);
  window.update(kT0);
  window.received(64 << 10);
  window.update(kT0 + 10ms);
  EXPECT_EQ(window.rate(), 0.0) << "10 ms is too short to tell a rate";
  window.update(kT0 + 200ms);
  EXPECT_DOUBLE_EQ(window.rate(), 5.0 * (64 << 10));
}

TEST(RequestWindow, ShrinksWhenTheConnectionSlowsDown) {
  RequestWindow window(64 << 10, 32);
  window.update(kT0);
  window.received(20 * (64 << 10));
  window.update(kT0 + 1s);
  const auto big = window.depth();
  auto now = kT0 + 1s;
  for (int i = 0; i < 10; ++i) window.update(now += 1s);
  EXPECT_LT(window.depth(), big);
  EXPECT_EQ(window.depth(), RequestWindow::kMin);
}

TEST(RequestWindow, ASourceGetsTheMostWhateverItsRate) {
  RequestWindow window(32 << 10, 32);
  window.update(kT0);
  window.received(32 << 10);  // one block in a second: a connection outsent at a shared seed
  window.update(kT0 + 1s);
  EXPECT_EQ(window.depth(false), 4u) << "another leecher: one block a second for 3 s, and one to grow by";
  EXPECT_EQ(window.depth(true), 32u) << "a source: asked for our own stripe, which no one else asks it for";
  auto now = kT0 + 1s;
  for (int i = 0; i < 10; ++i) window.update(now += 1s);
  EXPECT_EQ(window.depth(false), RequestWindow::kMin);
  EXPECT_EQ(window.depth(true), 32u) << "nothing arriving does not shrink a source's window either";
}

}  // namespace
}  // namespace sockit::cascade
