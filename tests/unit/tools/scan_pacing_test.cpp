#include "tools/scan_pacing.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace sockit::tools {
namespace {

using namespace std::chrono_literals;

// A target that answers closed ports with ICMP from a token bucket (Linux: burst 6, then
// `per_second`) and never answers open ones; a round's probes go out at the pacer's rate.
struct RateLimitedTarget {
  std::set<std::uint16_t> open;
  double per_second = 1;
  double tokens = 6;
  double burst = 6;
  double timeout_s = 1;

  std::pair<std::vector<PortResult>, double> round(const std::vector<std::uint16_t>& ports, double rate) {
    std::vector<PortResult> results;
    const double gap = rate > 0 ? 1 / rate : 0.001;
    for (auto port : ports) {
      PortResult r;
      r.port = port;
      r.attempts = 1;
      if (open.count(port)) {
        r.state = PortState::open_filtered;
      } else if (tokens >= 1) {
        tokens -= 1;
        r.state = PortState::closed;
        r.reason = "port-unreach";
      } else {
        r.state = PortState::open_filtered;
      }
      results.push_back(r);
      tokens = std::min(burst, tokens + gap * per_second);
    }
    tokens = std::min(burst, tokens + timeout_s * per_second);
    return {results, static_cast<double>(ports.size()) * gap + timeout_s};
  }
};

std::map<std::uint16_t, PortState> scan_with(RateLimitedTarget& target, std::vector<std::uint16_t> ports,
                                              int retries, double* seconds = nullptr) {
  UdpPacer pacer(ports, retries, 0);
  double total = 0;
  for (int round = 0; !pacer.done() && round < 100; ++round) {
    auto [results, took] = target.round(pacer.next_round(), pacer.round_rate());
    if (took < pacer.shortest_round().count()) {  // as scan() does: wait out the rest
      target.tokens = std::min(target.burst, target.tokens + (pacer.shortest_round().count() - took) * target.per_second);
      took = pacer.shortest_round().count();
    }
    total += took;
    pacer.record_round(results, std::chrono::duration<double>(took), false);
  }
  EXPECT_TRUE(pacer.done());
  if (seconds) *seconds = total;
  std::map<std::uint16_t, PortState> states;
  for (const auto& r : pacer.results()) states[r.port] = r.state;
  return states;
}

TEST(UdpPacer, RateLimitedClosedPortsAreNeverOpenFiltered) {
  RateLimitedTarget target;
  target.open = {20005, 20011, 20017};
  std::vector<std::uint16_t> ports;
  for (std::uint16_t p = 20000; p < 20025; ++p) ports.push_back(p);
  double seconds = 0;
  auto states = scan_with(target, ports, 1, &seconds);
  ASSERT_EQ(states.size(), ports.size());
  for (auto [port, state] : states)
    EXPECT_EQ(state, target.open.count(port) ? PortState::open_filtered : PortState::closed) << port;
  EXPECT_LT(seconds, 60);
}

TEST(UdpPacer, ShortTimeoutsDoNotTurnRateLimitedClosedPortsOpenFiltered) {
  for (double timeout : {0.05, 0.2, 0.5}) {
    RateLimitedTarget target;
    target.timeout_s = timeout;
    target.open = {20005};
    std::vector<std::uint16_t> ports;
    for (std::uint16_t p = 20000; p < 20025; ++p) ports.push_back(p);
    auto states = scan_with(target, ports, 1);
    for (auto [port, state] : states)
      EXPECT_EQ(state, port == 20005 ? PortState::open_filtered : PortState::closed) << port << " timeout " << timeout;
  }
}

TEST(UdpPacer, ManyClosedPortsBehindOnePerSecondStillComeOutClosed) {
  RateLimitedTarget target;
  target.open = {7};
  std::vector<std::uint16_t> ports;
  for (std::uint16_t p = 1; p <= 40; ++p) ports.push_back(p);
  auto states = scan_with(target, ports, 1);
  for (auto [port, state] : states) EXPECT_EQ(state, port == 7 ? PortState::open_filtered : PortState::closed) << port;
}

// The first round, unpaced, with answers and silence cannot tell a rate limit from open ports:
// its silence does not count, so a silent port gets retries + 2 probes.
TEST(UdpPacer, WithoutRateLimitSilentPortsTakeOneRoundMoreThanRetriesPlusOne) {
  RateLimitedTarget target;
  target.burst = target.tokens = 1e9;
  target.open = {3};
  UdpPacer pacer({1, 2, 3}, 2, 0);
  int rounds = 0;
  while (!pacer.done() && rounds < 10) {
    auto [results, took] = target.round(pacer.next_round(), pacer.round_rate());
    pacer.record_round(results, std::chrono::duration<double>(took), false);
    ++rounds;
  }
  EXPECT_EQ(rounds, 4);
  auto results = pacer.results();
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[2].state, PortState::open_filtered);
  EXPECT_EQ(results[2].attempts, 4);
  EXPECT_EQ(results[0].attempts, 1);
}

TEST(UdpPacer, SilenceOfARoundWithoutAnyAnswerCounts) {
  UdpPacer pacer({9}, 1, 0);
  std::vector<PortResult> round(1);
  round[0].port = 9;
  round[0].state = PortState::open_filtered;
  pacer.record_round(round, 1s, false);
  EXPECT_FALSE(pacer.done());
  pacer.record_round(round, 1s, false);
  ASSERT_TRUE(pacer.done());
  EXPECT_EQ(pacer.results()[0].attempts, 2);
  EXPECT_EQ(pacer.results()[0].reason, "no-response");
}

TEST(UdpPacer, RoundWithSomeAnswersSlowsTheNextOne) {
  UdpPacer pacer({1, 2, 3, 4}, 1, 0);
  EXPECT_EQ(pacer.round_rate(), 0);
  std::vector<PortResult> round(4);
  for (std::uint16_t i = 0; i < 4; ++i) {
    round[i].port = static_cast<std::uint16_t>(i + 1);
    round[i].state = i == 0 ? PortState::closed : PortState::open_filtered;
  }
  pacer.record_round(round, 2s, false);
  EXPECT_NEAR(pacer.round_rate(), 0.45, 1e-9);
  EXPECT_EQ(pacer.next_round(), (std::vector<std::uint16_t>{2, 3, 4}));
}

TEST(UdpPacer, InterruptedRoundKeepsItsAnswersOnly) {
  UdpPacer pacer({1, 2}, 0, 0);
  std::vector<PortResult> round(1);
  round[0].port = 1;
  round[0].state = PortState::closed;
  pacer.record_round(round, 1s, true);
  EXPECT_EQ(pacer.results().size(), 1u);
  EXPECT_EQ(pacer.next_round(), (std::vector<std::uint16_t>{2}));
}

}  // namespace
}  // namespace sockit::tools
