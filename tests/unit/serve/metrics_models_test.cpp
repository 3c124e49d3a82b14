// Every model moves its service's counters the same way for the same known workload: fib lines
// (one answer each, so requests and bytes are exact), a connection refused by --max-conns, and
// a latency for every request answered. The fork model's children count in shared memory.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>

#include "net/io.hpp"
#include "net/socket.hpp"
#include "serve/metrics.hpp"
#include "serve/model.hpp"
#include "serve/services/services.hpp"
#include "test_support.hpp"

namespace sockit::serve {
namespace {

using namespace std::chrono_literals;

std::string ask(const net::Socket& client, std::string_view lines, std::size_t answer_bytes) {
  net::send_all(client.fd(), net::as_bytes(lines), net::Deadline::after(5s)).value();
  std::string answer(answer_bytes, '\0');
  net::recv_exact(client.fd(), std::as_writable_bytes(std::span(answer)), net::Deadline::after(5s)).value();
  return answer;
}

// Waits (at most 5 s) until `done(totals)` holds; returns the totals then.
template <typename Done>
ServiceTotals wait_for(const ServiceCounters& counters, Done done) {
  auto totals = counters.totals();
  for (const auto deadline = std::chrono::steady_clock::now() + 5s;
       !done(totals) && std::chrono::steady_clock::now() < deadline; totals = counters.totals())
    std::this_thread::sleep_for(10ms);
  return totals;
}

class ModelMetrics : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!make_model(GetParam(), {})) GTEST_SKIP() << GetParam() << " is not available on this machine or build";
  }
};

TEST_P(ModelMetrics, AKnownWorkloadMovesEveryCounter) {
  Metrics metrics;
  const auto fib = services::make_tcp("fib", {});
  // Two threads: a pool worker busy with one client leaves the next to the other, which refuses it.
  auto model = make_model(GetParam(), {.threads = 2, .metrics = &metrics});
  auto listener = net::listen_on(net::Address::loopback(AF_INET, 0)).value();
  const auto address = listener.local_address().value();
  Limits limits;
  // The iterative model serves one client at a time: only --max-conns 0 makes it refuse.
  const bool iterative = GetParam() == "iterative";
  limits.max_conns = iterative ? 0 : 1;
  limits.grace_period = 1s;
  StopSignal stop;
  auto run = std::async(std::launch::async, [&] { model->run(listener, *fib, limits, stop); });
  auto& counters = metrics.service("fib");

  if (!iterative) {
    auto client = net::connect_to(address, 5s).value();
    EXPECT_EQ(ask(client, "10\n20\n", 8), "55\n6765\n");
    auto extra = net::connect_to(address, 5s).value();  // one too many: refused, told why (a text service)
    EXPECT_EQ(testing::read_until_eof(extra.fd(), 5000ms), "ERR refused: 1 connection already (--max-conns)\n");
    const auto open = wait_for(counters, [](const ServiceTotals& t) { return t.refused[0] == 1; });
    EXPECT_EQ(open.open(), 1u);
    EXPECT_EQ(ask(client, "30\n", 7), "832040\n");
    // Shut, not only closed: a fork child, forked from this very process, holds a copy of it.
    ::shutdown(client.fd(), SHUT_WR);
  } else {
    auto refused = net::connect_to(address, 5s).value();
    EXPECT_EQ(testing::read_until_eof(refused.fd(), 5000ms), "ERR refused: 0 connections already (--max-conns)\n");
  }
  const auto t = wait_for(counters, [&](const ServiceTotals& t) { return t.closed == (iterative ? 0u : 1u) && t.refused[0] == 1; });
  stop.request();
  run.get();

  EXPECT_EQ(t.refused[static_cast<std::size_t>(ConnectionRefusal::max_conns)], 1u);
  const auto sources = metrics.sources().top(5);
  ASSERT_EQ(sources.size(), 1u);
  EXPECT_EQ(sources[0].address, "127.0.0.1");
  EXPECT_EQ(sources[0].refused, 1u);
  if (iterative) return;
  EXPECT_EQ(t.connections, 1u);
  EXPECT_EQ(t.closed, 1u);
  EXPECT_EQ(t.open(), 0u);
  EXPECT_EQ(t.requests, 3u);
  EXPECT_EQ(t.received, 9u);   // "10\n20\n30\n"
  EXPECT_EQ(t.sent, 15u);      // "55\n6765\n832040\n"
  EXPECT_EQ(t.timed(), 3u);    // every answer went out
  EXPECT_EQ(sources[0].connections, 2u);
}

TEST(ModelMetricsIterative, AServedClientIsCountedToo) {
  Metrics metrics;
  const auto fib = services::make_tcp("fib", {});
  auto model = make_model("iterative", {.metrics = &metrics});
  auto listener = net::listen_on(net::Address::loopback(AF_INET, 0)).value();
  Limits limits;
  limits.grace_period = 1s;
  StopSignal stop;
  auto run = std::async(std::launch::async, [&] { model->run(listener, *fib, limits, stop); });
  {
    auto client = net::connect_to(listener.local_address().value(), 5s).value();
    EXPECT_EQ(ask(client, "10\n", 3), "55\n");
  }
  const auto t = wait_for(metrics.service("fib"), [](const ServiceTotals& t) { return t.closed == 1; });
  stop.request();
  run.get();
  EXPECT_EQ(t.connections, 1u);
  EXPECT_EQ(t.requests, 1u);
  EXPECT_EQ(t.received, 3u);
  EXPECT_EQ(t.sent, 3u);
  EXPECT_EQ(t.timed(), 1u);
}

INSTANTIATE_TEST_SUITE_P(AllModels, ModelMetrics,
                         ::testing::Values("iterative", "fork", "thread", "pool", "select", "poll", "epoll", "uring"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace sockit::serve
