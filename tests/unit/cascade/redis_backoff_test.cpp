#include <gtest/gtest.h>

#include "cascade/redis_backoff.hpp"

namespace sockit::cascade {
namespace {

using namespace std::chrono_literals;
using Turn = RedisBackoff::Turn;

class RedisBackoffTest : public ::testing::Test {
 protected:
  RedisBackoff backoff_{100ms, 400ms};
  RedisBackoff::Clock::time_point now_{};
};

TEST_F(RedisBackoffTest, HealthyLetsEveryoneTry) {
  EXPECT_EQ(backoff_.turn(now_), Turn::go);
  EXPECT_EQ(backoff_.turn(now_), Turn::go);
  EXPECT_FALSE(backoff_.down());
}

TEST_F(RedisBackoffTest, AfterAFailureNobodyTriesUntilTheRetryTimeThenOneProbes) {
  EXPECT_TRUE(backoff_.failed(now_, false));
  EXPECT_EQ(backoff_.turn(now_ + 99ms), Turn::wait);
  EXPECT_EQ(backoff_.retry_in(now_ + 40ms), 60ms);
  EXPECT_EQ(backoff_.turn(now_ + 100ms), Turn::probe);
  EXPECT_EQ(backoff_.turn(now_ + 101ms), Turn::wait) << "one probe at a time";
}

TEST_F(RedisBackoffTest, EachFailedProbeDoublesTheWaitUpToTheLongest) {
  backoff_.failed(now_, false);
  auto at = now_;
  for (auto wait : {200ms, 400ms, 400ms}) {
    at += backoff_.retry_in(at);
    ASSERT_EQ(backoff_.turn(at), Turn::probe);
    EXPECT_FALSE(backoff_.failed(at, true)) << "the outage goes on: no second notice";
    EXPECT_EQ(backoff_.retry_in(at), wait);
  }
}

TEST_F(RedisBackoffTest, ASuccessEndsTheOutageAndSaysHowLongItLasted) {
  backoff_.failed(now_, false);
  ASSERT_EQ(backoff_.turn(now_ + 100ms), Turn::probe);
  const auto outage = backoff_.succeeded(now_ + 150ms);
  ASSERT_TRUE(outage);
  EXPECT_EQ(*outage, 150ms);
  EXPECT_EQ(backoff_.turn(now_ + 150ms), Turn::go);
  EXPECT_FALSE(backoff_.succeeded(now_ + 160ms)) << "no outage to end";
  EXPECT_TRUE(backoff_.failed(now_ + 200ms, false)) << "a new outage starts again from the first wait";
  EXPECT_EQ(backoff_.retry_in(now_ + 200ms), 100ms);
}

TEST_F(RedisBackoffTest, FailuresOfTriesBegunBeforeTheOutageDoNotPushTheRetryBack) {
  backoff_.failed(now_, false);
  EXPECT_FALSE(backoff_.failed(now_ + 50ms, false));
  EXPECT_EQ(backoff_.retry_in(now_ + 50ms), 50ms);
}

TEST_F(RedisBackoffTest, DownForCountsFromTheFirstFailure) {
  EXPECT_EQ(backoff_.down_for(now_), 0ms);
  backoff_.failed(now_, false);
  EXPECT_EQ(backoff_.down_for(now_ + 3s), 3s);
}

}  // namespace
}  // namespace sockit::cascade
