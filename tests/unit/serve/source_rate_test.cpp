// SourceRateLimiter: a token bucket per source in a table that never grows, and how its mute
// ends a reflection loop between two servers (simulated time, no sockets).
#include "serve/source_rate.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <queue>
#include <string>

namespace sockit::serve {
namespace {

using namespace std::chrono_literals;
using Time = SourceRateLimiter::Time;

SourceKey key(std::string_view address) { return source_key(net::Address::parse(address).value()); }

// The n-th of many distinct IPv4 sources (a spoofed flood).
SourceKey nth(std::uint32_t n) {
  SourceKey k;
  k.bytes[10] = k.bytes[11] = 0xff;
  k.bytes[12] = static_cast<std::uint8_t>(10 + (n >> 24));
  k.bytes[13] = static_cast<std::uint8_t>(n >> 16);
  k.bytes[14] = static_cast<std::uint8_t>(n >> 8);
  k.bytes[15] = static_cast<std::uint8_t>(n);
  return k;
}

SourceRateLimiter::Config small() { return {.rate = 100, .burst = 10, .mute = 1s, .slots = 64, .seed = 42}; }

int allowed(SourceRateLimiter& limiter, const SourceKey& source, Time now, int tries) {
  int n = 0;
  for (int i = 0; i < tries; ++i) n += limiter.allow(source, now) ? 1 : 0;
  return n;
}

const Time t0 = SourceRateLimiter::Clock::now();

TEST(SourceRate, GivesABurstThenRefusesAndMutesForTheMuteTime) {
  SourceRateLimiter limiter(small());
  const auto a = key("192.0.2.1:5000");
  EXPECT_EQ(allowed(limiter, a, t0, 11), 10);
  EXPECT_FALSE(limiter.allow(a, t0 + 500ms)) << "muted, although 50 tokens' worth of time passed";
  EXPECT_TRUE(limiter.allow(a, t0 + 1001ms));
}

TEST(SourceRate, RefillsAtTheRate) {
  SourceRateLimiter limiter(small());
  const auto a = key("192.0.2.1:5000");
  EXPECT_EQ(allowed(limiter, a, t0, 10), 10);
  EXPECT_EQ(allowed(limiter, a, t0 + 50ms, 5), 5) << "100/s: 5 more after 50 ms";
  EXPECT_EQ(allowed(limiter, a, t0 + 100ms, 5), 5);
}

TEST(SourceRate, EachSourceHasItsOwnBucket) {
  SourceRateLimiter limiter(small());
  EXPECT_EQ(allowed(limiter, key("192.0.2.1:5000"), t0, 20), 10);
  EXPECT_EQ(allowed(limiter, key("192.0.2.2:5000"), t0, 20), 10);
}

TEST(SourceRate, CountsAnAddressWhateverItsPort) {
  SourceRateLimiter limiter(small());
  EXPECT_EQ(allowed(limiter, key("192.0.2.1:5000"), t0, 6), 6);
  EXPECT_EQ(allowed(limiter, key("192.0.2.1:5001"), t0, 6), 4);
}

TEST(SourceRate, CountsAnIpv6SubnetAsOneSourceAndMappedIpv4AsIpv4) {
  EXPECT_EQ(key("[2001:db8:1:2::1]:5000"), key("[2001:db8:1:2:ffff::9]:6000"));
  EXPECT_NE(key("[2001:db8:1:2::1]:5000"), key("[2001:db8:1:3::1]:5000"));
  EXPECT_EQ(key("[::ffff:192.0.2.1]:5000"), key("192.0.2.1:5000"));
  EXPECT_NE(key("[::ffff:192.0.2.1]:5000"), key("[::]:5000"));
}

TEST(SourceRate, ForgetsIdleSources) {
  SourceRateLimiter limiter(small());
  EXPECT_EQ(allowed(limiter, key("192.0.2.1:5000"), t0, 3), 3);
  EXPECT_EQ(limiter.tracked(t0), 1u);
  EXPECT_EQ(limiter.tracked(t0 + 30ms), 0u) << "its bucket is full again: nothing to remember";
}

TEST(SourceRate, TableNeverGrowsUnderASpoofedFlood) {
  SourceRateLimiter limiter({.rate = 1000, .burst = 250, .mute = 1s, .slots = 4096, .seed = 7});
  const auto bytes = limiter.memory_bytes();
  EXPECT_LE(bytes, 4096u * 48u) << "the bound the header states";
  for (std::uint32_t n = 0; n < 1'000'000; ++n) limiter.allow(nth(n), t0 + std::chrono::microseconds(n));
  EXPECT_EQ(limiter.memory_bytes(), bytes);
  EXPECT_LE(limiter.tracked(t0 + 1s), 4096u);
}

TEST(SourceRate, AFloodCannotEvictAMutedSource) {
  SourceRateLimiter limiter(small());
  const auto victim = key("192.0.2.1:5000");
  EXPECT_EQ(allowed(limiter, victim, t0, 11), 10);  // now muted until t0 + 1 s
  for (std::uint32_t n = 0; n < 100'000; ++n) limiter.allow(nth(n), t0 + 100ms);
  EXPECT_FALSE(limiter.allow(victim, t0 + 200ms));
}

TEST(SourceRate, SourcesBeyondTheTableShareOneOverflowBucket) {
  SourceRateLimiter limiter(small());  // 64 slots of 10 replies, then one more bucket of 10
  int granted = 0;
  for (std::uint32_t n = 0; n < 100'000; ++n) granted += limiter.allow(nth(n), t0) ? 1 : 0;
  EXPECT_LE(granted, 64 * 10 + 10);
}

// Two servers answering each other (A's replies go to B's port and back): each datagram is one
// reply at A, then one at B, a hop apart. Returns how many replies were sent before every
// datagram in flight died, or -1 if some still circle after `limit` of simulated time.
long loop_replies(SourceRateLimiter::Config config, int in_flight, std::chrono::nanoseconds hop,
                  std::chrono::seconds limit = 10s) {
  SourceRateLimiter a(config);
  SourceRateLimiter b(config);
  const auto a_address = key("127.0.0.1:7777");
  const auto b_address = key("127.0.0.2:8888");
  struct Datagram {
    Time arrives;
    bool at_a;
    bool operator>(const Datagram& o) const { return arrives > o.arrives; }
  };
  std::priority_queue<Datagram, std::vector<Datagram>, std::greater<>> flying;  // soonest first
  for (int i = 0; i < in_flight; ++i) flying.push({t0 + i * 1us, true});
  long replies = 0;
  while (!flying.empty()) {
    const auto d = flying.top();
    flying.pop();
    if (d.arrives - t0 > limit) return -1;
    const bool answered = d.at_a ? a.allow(b_address, d.arrives) : b.allow(a_address, d.arrives);
    if (!answered) continue;
    ++replies;
    flying.push({d.arrives + hop, !d.at_a});
  }
  return replies;
}

TEST(SourceRate, ALoopFasterThanTheRateDiesWithinABurstAndABit) {
  const SourceRateLimiter::Config config{.rate = 1000, .burst = 250, .mute = 1s, .slots = 64, .seed = 1};
  // 20 us a hop (loopback): 50,000 replies a second against a rate of 1,000.
  const long one = loop_replies(config, 1, 20us);
  EXPECT_GT(one, 0);
  EXPECT_LE(one, 2 * (250 + 15)) << "each end: its burst plus what trickles in while it drains";
  // Many datagrams at once: the mute drops all of them, not just the first over the rate.
  const long many = loop_replies(config, 100, 20us);
  EXPECT_GT(many, 0);
  EXPECT_LE(many, 2 * (250 + 100));
  // A LAN round trip (0.25 ms a hop: 4,000 replies a second) dies too.
  EXPECT_GT(loop_replies(config, 1, 250us), 0);
}

TEST(SourceRate, ALoopSlowerThanTheRateIsHeldToIt) {
  // 2 ms a hop is 500 replies a second at each end, under the rate of 1,000: such a loop looks
  // like a client asking once per round trip and is not ended, only bounded (the header says so).
  const SourceRateLimiter::Config config{.rate = 1000, .burst = 250, .mute = 1s, .slots = 64, .seed = 1};
  EXPECT_EQ(loop_replies(config, 1, 2ms, 2s), -1);
}

}  // namespace
}  // namespace sockit::serve
