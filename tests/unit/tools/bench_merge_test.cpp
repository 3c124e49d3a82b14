#include <fmt/core.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_report_support.hpp"
#include "tools/bench_merge.hpp"
#include "tools/bench_report_read.hpp"

namespace sockit::tools {
namespace {

// What `sockit bench --json` prints, read back as `bench merge` reads a file.
BenchReport through_json(const BenchReport& report) { return parse_report(to_json(report).dump()); }

BenchReport merged(const std::vector<FakeRun>& runs) {
  ReportMerger merger;
  for (std::size_t i = 0; i < runs.size(); ++i) merger.add(through_json(fake_report(runs[i])), fmt::format("run{}.json", i));
  return merger.result();
}

// The percentile of the samples themselves, as the histogram reports a value: the sample at
// rank ceil(p% of n), exact when it is the first or the last, else its bucket's representative
// clamped to the exact extremes.
std::uint64_t sample_percentile(std::vector<std::uint64_t> samples, double p) {
  std::sort(samples.begin(), samples.end());
  const auto rank = std::max<std::uint64_t>(
      1, static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(samples.size()) - 1e-9)));
  if (rank == 1 || rank >= samples.size()) return samples[rank - 1];
  return std::clamp(LatencyHistogram::representative(samples[rank - 1]), samples.front(), samples.back());
}

TEST(BenchMerge, TwoKnownHistogramsGiveThePercentilesOfAllTheirSamplesNotTheirAverage) {
  const FakeRun a{.latencies_ns = {10, 30, 50, 70, 90}, .host = "a"};
  const FakeRun b{.latencies_ns = {20, 40, 60, 80, 100}, .host = "b"};
  EXPECT_EQ(fake_report(a).counters.latency_ns.percentile(50), 50u);
  EXPECT_EQ(fake_report(b).counters.latency_ns.percentile(50), 60u);  // an average of p50s would say 55
  const auto m = merged({a, b});
  const auto& h = m.counters.latency_ns;
  EXPECT_EQ(h.count(), 10u);
  EXPECT_EQ(h.percentile(10), 10u);
  EXPECT_EQ(h.percentile(50), 50u);
  EXPECT_EQ(h.percentile(90), 90u);
  EXPECT_EQ(h.percentile(95), 100u);
  EXPECT_EQ(h.min(), 10u);
  EXPECT_EQ(h.max(), 100u);
  EXPECT_DOUBLE_EQ(h.mean(), 55.0);
  const auto j = to_json(m);
  EXPECT_DOUBLE_EQ(j["latency_us"]["p50"].get<double>(), 0.05);
  EXPECT_DOUBLE_EQ(j["latency_us"]["p90"].get<double>(), 0.09);
}

TEST(BenchMerge, LargeLatenciesMergeToThePercentilesOfTheCombinedSamples) {
  const FakeRun a{.latencies_ns = {120'000, 95'000, 4'000'000, 130'500, 77'777, 2'500'000'000}, .host = "a"};
  const FakeRun b{.latencies_ns = {110'000, 101'000, 99'999, 3'999'999, 150'000}, .host = "b"};
  auto all = a.latencies_ns;
  all.insert(all.end(), b.latencies_ns.begin(), b.latencies_ns.end());
  const auto m = merged({a, b});
  for (double p : {0.0, 10.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.9, 100.0})
    EXPECT_EQ(m.counters.latency_ns.percentile(p), sample_percentile(all, p)) << p;
}

TEST(BenchMerge, RandomSamplesSplitAcrossRunsMergeToTheHistogramOfThemAll) {
  std::mt19937_64 random(2026);
  for (int trial = 0; trial < 40; ++trial) {
    const std::size_t runs = 2 + random() % 4;  // 2..5
    std::vector<FakeRun> parts(runs);
    for (std::size_t r = 0; r < runs; ++r) {
      parts[r].host = fmt::format("h{}", r + 2);
      parts[r].start_ns += static_cast<std::int64_t>(random() % 3'000'000'000);
      parts[r].timeouts = random() % 3;
    }
    LatencyHistogram all;
    std::vector<std::uint64_t> samples;
    std::lognormal_distribution<double> latency(std::log(200'000.0), 1.5);  // a median of 200 us, a long tail
    const std::size_t n = random() % 3000;
    for (std::size_t i = 0; i < n; ++i) {
      const auto value = static_cast<std::uint64_t>(latency(random));
      all.record(value);
      samples.push_back(value);
      parts[random() % runs].latencies_ns.push_back(value);
    }
    const auto m = merged(parts);
    const auto& h = m.counters.latency_ns;
    ASSERT_EQ(h.count(), all.count());
    ASSERT_EQ(m.counters.requests, n);
    ASSERT_EQ(h.min(), all.min());
    ASSERT_EQ(h.max(), all.max());
    ASSERT_EQ(h.buckets(), all.buckets());
    for (double p : {0.0, 1.0, 5.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.99, 99.999, 100.0})
      ASSERT_EQ(h.percentile(p), all.percentile(p)) << "trial " << trial << " p" << p;
    if (n > 0) {
      for (double p : {1.0, 50.0, 99.0, 99.9}) ASSERT_EQ(h.percentile(p), sample_percentile(samples, p)) << p;
    }
    std::uint64_t timeouts = 0;
    for (const auto& part : parts) timeouts += part.timeouts;
    ASSERT_EQ(m.counters.errors[static_cast<std::size_t>(ErrorKind::timeout)], timeouts);
    ASSERT_EQ(m.counters.bytes_sent, n * 64);
    ASSERT_EQ(m.runs.size(), runs);
  }
}

TEST(BenchMerge, RatesAreOverTheUnionOfTheWindows) {
  const std::int64_t t0 = 1'800'000'000'000'000'000, second = 1'000'000'000;
  const std::vector<std::uint64_t> thousand(1000, 100'000);
  const auto at = [&](std::string host, std::int64_t start) {
    return FakeRun{.latencies_ns = thousand, .host = host, .start_ns = t0 + start * second};
  };
  const auto together = merged({at("a", 0), at("b", 0)});
  EXPECT_DOUBLE_EQ(together.seconds, 2);
  EXPECT_DOUBLE_EQ(together.overlap_seconds, 2);
  EXPECT_DOUBLE_EQ(figures_of(together).requests_per_s, 1000);
  const auto staggered = merged({at("a", 0), at("b", 1)});
  EXPECT_DOUBLE_EQ(staggered.seconds, 3);
  EXPECT_DOUBLE_EQ(staggered.overlap_seconds, 1);
  const auto apart = merged({at("a", 0), at("b", 10)});
  EXPECT_DOUBLE_EQ(apart.seconds, 4);
  EXPECT_DOUBLE_EQ(apart.overlap_seconds, 0);
  EXPECT_DOUBLE_EQ(figures_of(apart).requests_per_s, 500);
  const auto j = to_json(staggered);
  EXPECT_EQ(j["window"]["start_unix_ns"], t0);
  EXPECT_EQ(j["window"]["end_unix_ns"], t0 + 3 * second);
  EXPECT_DOUBLE_EQ(j["window"]["seconds"].get<double>(), 3);
  EXPECT_DOUBLE_EQ(j["window"]["overlap_seconds"].get<double>(), 1);
  EXPECT_EQ(j["load_host"], nullptr);
  EXPECT_EQ(j["conns"], 20);
  EXPECT_EQ(j["runs"][1]["source"], "run1.json");
  EXPECT_EQ(j["runs"][1]["load_host"]["name"], "b");
}

TEST(BenchMerge, AMergedReportMergesAgainAsIfAllRunsWereMergedAtOnce) {
  std::vector<FakeRun> runs;
  for (int i = 0; i < 3; ++i)
    runs.push_back({.latencies_ns = {std::uint64_t(1000 + i), std::uint64_t(50'000 * (i + 1)), 7'000'000},
                    .host = fmt::format("h{}", i),
                    .start_ns = 1'800'000'000'000'000'000 + i * 500'000'000});
  const auto at_once = merged(runs);
  ReportMerger first;
  first.add(through_json(fake_report(runs[0])), "run0.json");
  first.add(through_json(fake_report(runs[1])), "run1.json");
  ReportMerger second;
  second.add(through_json(first.result()), "ab.json");
  second.add(through_json(fake_report(runs[2])), "run2.json");
  const auto in_two_steps = second.result();
  auto a = to_json(at_once), b = to_json(in_two_steps);
  EXPECT_EQ(a["latency_histogram"], b["latency_histogram"]);
  EXPECT_EQ(a["latency_us"], b["latency_us"]);
  EXPECT_EQ(a["requests"], b["requests"]);
  EXPECT_EQ(a["window"], b["window"]);
  EXPECT_EQ(a["runs"], b["runs"]);  // each run keeps the file it first came from
}

std::string refusal(const std::vector<FakeRun>& runs, bool force = false) {
  ReportMerger merger(force);
  try {
    for (std::size_t i = 0; i < runs.size(); ++i) merger.add(through_json(fake_report(runs[i])), fmt::format("run{}.json", i));
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(accepted)";
}

FakeRun run_on(std::string host) { return {.latencies_ns = {1000, 2000}, .host = std::move(host)}; }

TEST(BenchMerge, RefusesRunsOfDifferentLoadsUnlessForced) {
  auto fib = run_on("b");
  fib.workload = {.workload = Workload::fib, .fib_n = 27};
  EXPECT_EQ(refusal({run_on("a"), fib}),
            "run1.json: a different load: fib over tcp with options {\"n\":27}, where run0.json has echo over tcp with "
            "options {\"size\":64} (bench merge --force merges them anyway)");
  auto bigger = run_on("b");
  bigger.workload.size = 100;
  EXPECT_EQ(refusal({run_on("a"), bigger}),
            "run1.json: a different load: echo over tcp with options {\"size\":100}, where run0.json has echo over tcp "
            "with options {\"size\":64} (bench merge --force merges them anyway)");
  auto udp = run_on("b");
  udp.workload.udp = true;
  EXPECT_EQ(refusal({run_on("a"), udp}).substr(0, 56), "run1.json: a different load: echo over udp with options ");
  auto elsewhere = run_on("b");
  elsewhere.target = "10.77.0.9:10007";
  EXPECT_EQ(refusal({run_on("a"), elsewhere}),
            "run1.json: target 10.77.0.9:10007, where run0.json has 10.77.0.1:10007 (bench merge --force merges them "
            "anyway)");
  auto open = run_on("b");
  open.rate = 500;
  EXPECT_EQ(refusal({run_on("a"), open}),
            "run1.json: an open loop, where run0.json has a closed loop: their latencies are not measured alike (an open "
            "loop counts from each request's intended send time) (bench merge --force merges them anyway)");
  for (const auto& other : {fib, bigger, udp, elsewhere, open}) EXPECT_EQ(refusal({run_on("a"), other}, true), "(accepted)");
}

TEST(BenchMerge, AForcedMergeNamesEveryLoadItHolds) {
  auto fib = run_on("b");
  fib.workload = {.workload = Workload::fib};
  fib.target = "10.77.0.1:9000";
  ReportMerger merger(true);
  merger.add(through_json(fake_report(run_on("a"))), "a.json");
  merger.add(through_json(fake_report(fib)), "b.json");
  merger.add(through_json(fake_report(run_on("c"))), "c.json");
  const auto m = merger.result();
  EXPECT_EQ(m.workload, "echo, fib");
  EXPECT_EQ(m.target, "10.77.0.1:10007, 10.77.0.1:9000");
  EXPECT_TRUE(m.workload_options.is_null());
  EXPECT_EQ(m.counters.requests, 6u);
  EXPECT_EQ(through_json(m).workload, "echo, fib");  // and it reads back
}

TEST(BenchMerge, RefusesARunItAlreadyHasWhichWouldCountTwice) {
  EXPECT_EQ(refusal({run_on("a"), run_on("a")}),
            "run1.json: the run of a from 2027-01-15T08:00:00.000Z is already merged (from run0.json): it would count "
            "twice");
}

TEST(BenchMerge, RefusesCountsThatWouldPassTwoToTheSixtyFourth) {
  auto huge = fake_report(run_on("a"));
  huge.counters.bytes_sent = UINT64_MAX - 10;
  huge.runs[0].bytes_sent = huge.counters.bytes_sent;
  ReportMerger merger;
  merger.add(through_json(huge), "a.json");
  EXPECT_THROW(
      {
        try {
          merger.add(through_json(fake_report(run_on("b"))), "b.json");
        } catch (const std::invalid_argument& e) {
          EXPECT_STREQ(e.what(), "b.json: the bytes sent add up to more than 2^64");
          throw;
        }
      },
      std::invalid_argument);
  EXPECT_EQ(merger.result().counters.requests, 2u);  // b.json was left out whole
}

TEST(BenchMerge, TheTextReportHasALinePerRun) {
  const auto text = format_table(merged({run_on("a"), run_on("b")}));
  EXPECT_NE(text.find("echo against 10.77.0.1:10007 (tcp): 20 connections, 2 threads, pipeline 1, closed loop\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  requests       4 in 2.00 s\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  runs           2 over 2.00 s (the rates' time: any run measuring), 2.00 s of it all at once\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("    a (10.77.0.2) run0.json: 10 conns, 2 requests in 2.00 s from 2027-01-15T08:00:00.000Z, "
                      "1.0/s, 0 errors, p50 1.0 us, p99 2.0 us, max 2.0 us\n"),
            std::string::npos)
      << text;
}

TEST(BenchMerge, NamesFromFilesAreShownWithTheirControlBytesMasked) {
  auto evil = run_on("h\x1b]0;owned\x07\n  requests       999999");
  ReportMerger merger;
  merger.add(through_json(fake_report(run_on("a"))), "a.json");
  merger.add(through_json(fake_report(evil)), "b\x1b[2J.json");
  const auto text = format_table(merger.result());
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << text;
  EXPECT_EQ(text.find('\x07'), std::string::npos) << text;
  EXPECT_NE(text.find("    h?]0;owned??  requests       999999 (10.77.0.2) b?[2J.json: 10 conns"), std::string::npos)
      << text;
  auto other = fake_report(run_on("c"));
  other.target = "10.77.0.1:1\x1b[31m";
  try {
    merger.add(through_json(other), "c.json");
    ADD_FAILURE() << "another target was merged";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "c.json: target 10.77.0.1:1?[31m, where a.json has 10.77.0.1:10007 (bench merge --force "
                           "merges them anyway)");
  }
}

}  // namespace
}  // namespace sockit::tools
