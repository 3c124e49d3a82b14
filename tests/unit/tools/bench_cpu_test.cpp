#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>

#include "tools/bench_counters.hpp"
#include "tools/bench_cpu.hpp"

namespace sockit::tools {
namespace {

using namespace std::chrono_literals;

TEST(ProcStat, ParsesFieldsAfterACommandNameWithSpacesAndParentheses) {
  const auto stat = parse_proc_stat(
      "4242 (my (odd) server) S 17 4242 4242 0 -1 4194560 1000 0 0 0 250 75 12 3 20 0 4 0 100 0 0");
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->pid, 4242);
  EXPECT_EQ(stat->parent, 17);
  EXPECT_EQ(stat->utime, 250u);
  EXPECT_EQ(stat->stime, 75u);
  EXPECT_EQ(stat->cutime, 12u);
  EXPECT_EQ(stat->cstime, 3u);
}

TEST(ProcStat, RejectsALineThatIsNotOne) {
  EXPECT_FALSE(parse_proc_stat("hello"));
  EXPECT_FALSE(parse_proc_stat("12 (x) S 1 2"));
}

TEST(ProcStat, ProcessTreeCpuGrowsWithTheCpuThisProcessBurns) {
  const auto before = process_tree_cpu(::getpid());
  ASSERT_TRUE(before) << before.error().what();
  // Burn 200 ms of CPU time (measured by getrusage, so a busy machine only makes it slower).
  const auto start = own_cpu().total();
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  volatile unsigned long sink = 0;
  while (own_cpu().total() - start < 200ms && std::chrono::steady_clock::now() < give_up)
    for (int i = 0; i < 100000; ++i) sink = sink + static_cast<unsigned long>(i);
  const auto after = process_tree_cpu(::getpid());
  ASSERT_TRUE(after);
  EXPECT_GE((*after - *before).total(), 150ms);  // ticks are 10 ms
}

TEST(ProcStat, UnknownProcessIsAnError) {
  // PID numbers stop at /proc/sys/kernel/pid_max (at most 2^22).
  EXPECT_FALSE(process_tree_cpu(99'999'999));
}

TEST(BenchCounters, ErrnoValuesMapToTheKindsTheReportShows) {
  EXPECT_EQ(classify_errno(ECONNREFUSED), ErrorKind::refused);
  EXPECT_EQ(classify_errno(ENOENT), ErrorKind::refused);
  EXPECT_EQ(classify_errno(ECONNRESET), ErrorKind::reset);
  EXPECT_EQ(classify_errno(EPIPE), ErrorKind::reset);
  EXPECT_EQ(classify_errno(ETIMEDOUT), ErrorKind::timeout);
  EXPECT_EQ(classify_errno(EMFILE), ErrorKind::no_descriptors);
  EXPECT_EQ(classify_errno(ENFILE), ErrorKind::no_descriptors);
  EXPECT_EQ(classify_errno(EINVAL), ErrorKind::other);
  EXPECT_EQ(error_kind_name(ErrorKind::wrong_reply), "wrong_reply");
}

}  // namespace
}  // namespace sockit::tools
