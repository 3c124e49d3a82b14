#include "tools/bench_loop.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <array>
#include <thread>

#include "net/io.hpp"
#include "net/socket.hpp"
#include "test_support.hpp"

namespace sockit::tools {
namespace {

using namespace std::chrono_literals;
using sockit::testing::open_fd_count;

BenchConfig echo_config(const net::Socket& listener) {
  BenchConfig config;
  config.target = listener.local_address().value();
  config.exchange = make_exchange({.workload = Workload::echo});
  config.timeout = 2s;
  return config;
}

// Echoes one connection of `listener` until it closes; every wait bounded.
void echo_one(const net::Socket& listener) {
  if (!net::wait_ready(listener.fd(), POLLIN, net::Deadline::after(5s))) return;
  auto peer = listener.accept();
  if (!peer) return;
  std::array<std::byte, 4096> buffer;
  for (;;) {
    auto n = net::recv_some(peer->fd(), buffer, net::Deadline::after(5s));
    if (!n || *n == 0) return;
    if (!net::send_all(peer->fd(), std::span(buffer.data(), *n), net::Deadline::after(5s))) return;
  }
}

TEST(BenchLoop, AnEchoPeerAnswersEveryRequestWithoutErrors) {
  auto listener = net::listen_on(net::Address::loopback(AF_INET, 0)).value();
  const auto config = echo_config(listener);
  const int fds_before = open_fd_count();
  std::thread peer([&] { echo_one(listener); });
  {
    const auto start = BenchClock::now();
    BenchLoop loop(config, config.exchange.request, net::Epoll::create().value(), {start, start, start + 300ms}, {0});
    loop.run();
    EXPECT_FALSE(loop.failure());
    EXPECT_GT(loop.counters().requests, 0u);
    EXPECT_EQ(loop.counters().error_total(), 0u);
  }
  peer.join();
  EXPECT_EQ(open_fd_count(), fds_before);
}

TEST(BenchLoop, EpollRefusingASocketEndsTheRunWithAnErrorNamingTheCallAndTheTarget) {
  auto listener = net::listen_on(net::Address::loopback(AF_INET, 0)).value();
  const auto config = echo_config(listener);
  const int fds_before = open_fd_count();
  {
    auto epoll = net::Epoll::create().value();
    // epoll_ctl on a descriptor that is not an epoll instance fails (EINVAL): the one way a test
    // can make the kernel refuse to watch a socket.
    auto pair = net::socket_pair().value();
    ASSERT_EQ(::dup2(pair.first.fd(), epoll.fd()), epoll.fd());
    const auto start = BenchClock::now();
    BenchLoop loop(config, config.exchange.request, std::move(epoll), {start, start, start + 10s}, {0});
    loop.run();
    EXPECT_LT(BenchClock::now() - start, 5s);  // it ended at the failure, not with the window
    ASSERT_TRUE(loop.failure());
    const std::string what = loop.failure()->what();
    EXPECT_NE(what.find("epoll_ctl(ADD)"), std::string::npos) << what;
    EXPECT_NE(what.find(config.target.to_string()), std::string::npos) << what;
    EXPECT_EQ(loop.counters().error_total(), 0u);  // the load generator's failure, not the server's
  }
  EXPECT_EQ(open_fd_count(), fds_before);
}

}  // namespace
}  // namespace sockit::tools
