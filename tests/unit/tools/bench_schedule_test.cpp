#include <gtest/gtest.h>

#include "tools/bench_schedule.hpp"

namespace sockit::tools {
namespace {

using namespace std::chrono_literals;

const BenchClock::time_point t0 = BenchClock::time_point() + 1h;

TEST(Pacer, ClosedLoopRequestIsDueAtOnceAndIntendedForNow) {
  auto pacer = Pacer::closed();
  EXPECT_EQ(pacer.take_due(t0), t0);
  EXPECT_EQ(pacer.take_due(t0 + 5ms), t0 + 5ms);
}

TEST(Pacer, OpenLoopRequestIsNotDueBeforeItsTime) {
  auto pacer = Pacer::open(10ms, t0);
  EXPECT_FALSE(pacer.take_due(t0 - 1us));
  EXPECT_EQ(pacer.take_due(t0), t0);
  EXPECT_FALSE(pacer.take_due(t0 + 9ms));
  EXPECT_EQ(pacer.next_due(), t0 + 10ms);
}

TEST(Pacer, OpenLoopRequestsTakenLateKeepTheirScheduledTimes) {
  auto pacer = Pacer::open(10ms, t0);
  // Nothing was sent for 35 ms (the connection was busy): four requests are owed, each with
  // its own intended time, not the time they finally leave.
  EXPECT_EQ(pacer.take_due(t0 + 35ms), t0);
  EXPECT_EQ(pacer.take_due(t0 + 35ms), t0 + 10ms);
  EXPECT_EQ(pacer.take_due(t0 + 35ms), t0 + 20ms);
  EXPECT_EQ(pacer.take_due(t0 + 35ms), t0 + 30ms);
  EXPECT_FALSE(pacer.take_due(t0 + 35ms));
}

TEST(InFlight, LatencyIsMeasuredFromTheIntendedSendTimeNotTheActualOne) {
  // The schedule wanted the request out at t0; a stalled server held the only slot until
  // t0 + 30 ms; the reply came 5 ms after the real send. Coordinated omission would report
  // 5 ms; the user waited 35 ms.
  auto pacer = Pacer::open(10ms, t0);
  InFlight in_flight;
  const auto intended = pacer.take_due(t0 + 30ms);
  ASSERT_TRUE(intended);
  in_flight.push(*intended, t0 + 30ms);
  EXPECT_EQ(in_flight.oldest().started, t0 + 30ms);
  EXPECT_EQ(in_flight.complete(t0 + 35ms), 35ms);
  EXPECT_TRUE(in_flight.empty());
}

TEST(InFlight, RepliesAnswerTheOldestRequestFirst) {
  InFlight in_flight;
  in_flight.push(t0, t0);
  in_flight.push(t0 + 1ms, t0 + 1ms);
  in_flight.push(t0 + 2ms, t0 + 2ms);
  EXPECT_EQ(in_flight.complete(t0 + 10ms), 10ms);
  EXPECT_EQ(in_flight.complete(t0 + 10ms), 9ms);
  EXPECT_EQ(in_flight.size(), 1u);
}

}  // namespace
}  // namespace sockit::tools
