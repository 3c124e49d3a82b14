#include "serve/metrics.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

namespace sockit::serve {
namespace {

using namespace std::chrono_literals;

TEST(ServiceCounters, ManyThreadsAddUpExactly) {
  Metrics metrics;
  auto& counters = metrics.service("echo");
  constexpr int kThreads = 12, kEach = 20000;  // more threads than stripes: some share one
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        counters.requests(1);
        counters.received(3);
        counters.sent(5);
      }
      counters.connected();
    });
  for (auto& thread : threads) thread.join();
  const auto totals = counters.totals();
  EXPECT_EQ(totals.requests, std::uint64_t{kThreads} * kEach);
  EXPECT_EQ(totals.received, 3ull * kThreads * kEach);
  EXPECT_EQ(totals.sent, 5ull * kThreads * kEach);
  EXPECT_EQ(totals.connections, std::uint64_t{kThreads});
  EXPECT_EQ(totals.open(), std::uint64_t{kThreads});
}

TEST(ServiceCounters, LatencyGoesToTheFirstBucketWhoseBoundHoldsIt) {
  Metrics metrics;
  auto& counters = metrics.service("fib");
  counters.latency(10us, 1);   // on the first bound: le="1e-05"
  counters.latency(30us, 2);   // le="5e-05"
  counters.latency(20s, 1);    // past the last bound: +Inf
  const auto totals = counters.totals();
  EXPECT_EQ(totals.latency[0], 1u);
  EXPECT_EQ(totals.latency[2], 2u);
  EXPECT_EQ(totals.latency.back(), 1u);
  EXPECT_EQ(totals.timed(), 4u);
  EXPECT_EQ(totals.latency_ns, 10'000u + 2 * 30'000u + 20'000'000'000u);
}

TEST(ServiceCounters, OpenNeverGoesBelowZero) {
  ServiceTotals totals;
  totals.connections = 2;
  totals.closed = 3;  // a close read before its open
  EXPECT_EQ(totals.open(), 0u);
}

TEST(Metrics, AServiceKeepsItsCountersAndPastTheLimitTheRestShareOther) {
  Metrics metrics;
  auto& echo = metrics.service("echo");
  EXPECT_EQ(&metrics.service("echo"), &echo);
  for (std::size_t i = 1; i < Metrics::kMaxServices + 5; ++i) metrics.service("s" + std::to_string(i));
  const auto all = metrics.services();
  ASSERT_EQ(all.size(), Metrics::kMaxServices);
  EXPECT_EQ(all.front().name, "echo");
  EXPECT_EQ(all.back().name, "other");
  EXPECT_EQ(&metrics.service("s100"), &metrics.service("s101"));
  EXPECT_EQ(all.back().counters, &metrics.service("s100"));
}

TEST(Metrics, WhatAForkedChildCountsTheParentSees) {
  Metrics metrics;
  auto& counters = metrics.service("fork-test");
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    counters.connected();
    counters.requests(7);
    counters.closed();
    metrics.sources().count("10.1.2.3:4000", false);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  const auto totals = counters.totals();
  EXPECT_EQ(totals.connections, 1u);
  EXPECT_EQ(totals.closed, 1u);
  EXPECT_EQ(totals.requests, 7u);
  const auto top = metrics.sources().top(1);
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(top[0].address, "10.1.2.3");
}

TEST(TopSources, KeepsTheHeavyHitterAmongManyMoreSourcesThanItHasRoomFor) {
  Metrics metrics;
  auto& sources = metrics.sources();
  // 1000 sources once each, and one source every tenth connection: 10% of all, far above
  // 1/kMonitored, so it is kept, with at most its error over-counted.
  for (int i = 0; i < 1000; ++i) {
    sources.count("10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ":1234", false);
    if (i % 9 == 0) sources.count("[2001:db8::1]:80", i % 2 == 0);
  }
  const auto top = sources.top(3);
  ASSERT_FALSE(top.empty());
  EXPECT_EQ(top[0].address, "2001:db8::1");
  EXPECT_GE(top[0].connections, 112u);
  EXPECT_LE(top[0].connections - top[0].error, 112u);
  EXPECT_LE(top.size(), 3u);
}

TEST(TopSources, CountsEachSourceWithoutItsPortAndItsRefusals) {
  Metrics metrics;
  auto& sources = metrics.sources();
  sources.count("127.0.0.1:5000", false);
  sources.count("127.0.0.1:5001", true);
  sources.count("[::1]:5000", false);
  const auto top = sources.top(10);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].address, "127.0.0.1");
  EXPECT_EQ(top[0].connections, 2u);
  EXPECT_EQ(top[0].refused, 1u);
  EXPECT_EQ(top[0].error, 0u);
  EXPECT_EQ(top[1].address, "::1");
}

}  // namespace
}  // namespace sockit::serve
