// RefusalTally: a count per reason, and spells so that the log gets lines per spell, not per datagram.
#include "serve/refusal_tally.hpp"

#include <gtest/gtest.h>

namespace sockit::serve {
namespace {

using namespace std::chrono_literals;
const RefusalTally::Time t0 = std::chrono::steady_clock::now();

TEST(RefusalTally, OnlyTheFirstRefusalOfASpellStartsIt) {
  RefusalTally tally(10s);
  EXPECT_TRUE(tally.count(Refusal::this_port, t0));
  for (int i = 0; i < 999; ++i) EXPECT_FALSE(tally.count(Refusal::this_port, t0 + 1ms * i));
  EXPECT_EQ(tally.total(Refusal::this_port), 1000u);
}

TEST(RefusalTally, EachReasonHasItsOwnSpellAndCount) {
  RefusalTally tally(10s);
  EXPECT_TRUE(tally.count(Refusal::this_port, t0));
  EXPECT_TRUE(tally.count(Refusal::rate_limited, t0));
  EXPECT_FALSE(tally.count(Refusal::rate_limited, t0));
  EXPECT_EQ(tally.total(Refusal::this_port), 1u);
  EXPECT_EQ(tally.total(Refusal::rate_limited), 2u);
  EXPECT_EQ(tally.total(Refusal::port_zero), 0u);
}

TEST(RefusalTally, ASpellEndsAfterTheQuietTimeWithOneLineThatCountsIt) {
  RefusalTally tally(10s);
  tally.count(Refusal::reflector_port, t0);
  tally.count(Refusal::reflector_port, t0 + 2s);
  tally.count(Refusal::reflector_port, t0 + 2100ms);
  EXPECT_TRUE(tally.end_quiet(t0 + 12s).empty()) << "quiet for 9.9 s only";
  const auto lines = tally.end_quiet(t0 + 12100ms);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "udp: refused 3 datagrams in 2.1 s (reflector-port)");
  EXPECT_TRUE(tally.end_quiet(t0 + 60s).empty()) << "ended once";
  EXPECT_TRUE(tally.count(Refusal::reflector_port, t0 + 61s)) << "the next refusal starts a new spell";
  EXPECT_EQ(tally.total(Refusal::reflector_port), 4u);
}

TEST(RefusalTally, EndAllEndsEveryOpenSpell) {
  RefusalTally tally(10s);
  tally.count(Refusal::port_zero, t0);
  tally.count(Refusal::multicast_source, t0);
  const auto lines = tally.end_all();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "udp: refused 1 datagram in 0.0 s (port-zero)");
  EXPECT_EQ(lines[1], "udp: refused 1 datagram in 0.0 s (multicast-source)");
  EXPECT_TRUE(tally.end_all().empty());
}

}  // namespace
}  // namespace sockit::serve
