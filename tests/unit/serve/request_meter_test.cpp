#include "serve/models/request_meter.hpp"

#include <gtest/gtest.h>

namespace sockit::serve::models {
namespace {

using namespace std::chrono_literals;
using Clock = RequestMeter::Clock;

class RequestMeterTest : public ::testing::Test {
 protected:
  ServiceTotals totals() const { return counters_.totals(); }
  Metrics metrics_;
  ServiceCounters& counters_ = metrics_.service("meter");
};

TEST_F(RequestMeterTest, ARequestIsTimedOnceTheLastByteOfItsAnswerIsSent) {
  RequestMeter meter(&counters_);
  meter.received(10);
  meter.answered(1, Clock::now() - 2ms, 100);  // began 2 ms ago; 100 bytes to send
  EXPECT_EQ(totals().requests, 1u);
  meter.sent(60);
  EXPECT_EQ(totals().timed(), 0u) << "timed before its answer went out";
  meter.sent(40);
  const auto t = totals();
  EXPECT_EQ(t.timed(), 1u);
  EXPECT_GE(t.latency_ns, 2'000'000u);
  EXPECT_EQ(t.received, 10u);
  EXPECT_EQ(t.sent, 100u);
}

TEST_F(RequestMeterTest, PipelinedRequestsAreTimedByTheirOwnAnswersEnd) {
  RequestMeter meter(&counters_);
  const auto began = Clock::now();
  meter.answered(2, began, 20);   // two answers, 20 bytes
  meter.answered(3, began, 30);   // a third, 10 more bytes queued behind them
  meter.sent(20);
  EXPECT_EQ(totals().timed(), 2u);
  meter.sent(10);
  EXPECT_EQ(totals().timed(), 3u);
  EXPECT_EQ(totals().requests, 3u);
}

TEST_F(RequestMeterTest, MoreGroupsThanItFollowsJoinTheLastAndAreAllTimed) {
  RequestMeter meter(&counters_);
  const auto began = Clock::now();
  meter.answered(1, began, 10);
  meter.answered(2, began, 20);
  meter.answered(3, began, 30);
  meter.answered(4, began, 40);
  meter.sent(10);
  EXPECT_EQ(totals().timed(), 1u);
  meter.sent(29);
  EXPECT_EQ(totals().timed(), 1u) << "the joined group ends where its last answer does";
  meter.sent(1);
  EXPECT_EQ(totals().timed(), 4u);
}

TEST_F(RequestMeterTest, AnAnswerThatNeverLeavesIsCountedNotTimed) {
  RequestMeter meter(&counters_);
  meter.answered(1, Clock::now(), 50);
  meter.abandon();
  meter.sent(50);  // a send that was in flight when the connection failed
  EXPECT_EQ(totals().requests, 1u);
  EXPECT_EQ(totals().timed(), 0u);
}

TEST_F(RequestMeterTest, ARequestWithNothingToSendIsTimedAtOnce) {
  RequestMeter meter(&counters_);
  meter.answered(1, Clock::now(), 0);  // discard
  EXPECT_EQ(totals().timed(), 1u);
}

TEST_F(RequestMeterTest, CountedRequestsAreNeitherTimedNorCountedTwice) {
  RequestMeter meter(&counters_);
  meter.counted(5);  // chargen's chunks
  meter.answered(5, Clock::now(), 10);
  meter.counted(5);
  EXPECT_EQ(totals().requests, 5u);
  EXPECT_EQ(totals().timed(), 0u);
}

TEST_F(RequestMeterTest, WithoutCountersItCountsNothing) {
  RequestMeter meter(nullptr);
  meter.received(1);
  meter.answered(1, Clock::now(), 1);
  meter.sent(1);
  EXPECT_EQ(totals().requests + totals().received + totals().sent, 0u);
}

}  // namespace
}  // namespace sockit::serve::models
