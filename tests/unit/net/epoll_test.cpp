#include "net/epoll.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "net/io.hpp"
#include "net/socket.hpp"
#include "test_support.hpp"

namespace sockit::net {
namespace {

using namespace std::chrono_literals;
using sockit::testing::bytes_of;

TEST(Epoll, ReportsReadinessWithTheCallersTag) {
  auto epoll = Epoll::create().value();
  auto [a, b] = socket_pair().value();
  epoll.add(b.fd(), EPOLLIN, 42).value();
  EXPECT_TRUE(epoll.wait(0).value().empty());
  send_all(a.fd(), bytes_of("x")).value();
  auto ready = epoll.wait(1000).value();
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0].data.u64, 42u);
  EXPECT_TRUE(ready[0].events & EPOLLIN);
}

TEST(Epoll, ReadyEventsCanBeIteratedStraightFromWait) {
  auto epoll = Epoll::create().value();
  auto [a, b] = socket_pair().value();
  epoll.add(a.fd(), EPOLLOUT, 5).value();
  int seen = 0;
  for (const auto& event : epoll.wait(1000).value()) seen += event.data.u64 == 5 ? 1 : 0;  // ASan: no dangling
  EXPECT_EQ(seen, 1);
}

TEST(Epoll, ModifyChangesInterestAndRemoveStopsReports) {
  auto epoll = Epoll::create().value();
  auto [a, b] = socket_pair().value();
  epoll.add(a.fd(), EPOLLIN, 1).value();
  EXPECT_TRUE(epoll.wait(0).value().empty());
  epoll.modify(a.fd(), EPOLLOUT, 2).value();
  auto ready = epoll.wait(1000).value();
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0].data.u64, 2u);
  epoll.remove(a.fd()).value();
  EXPECT_TRUE(epoll.wait(0).value().empty());
}

TEST(Epoll, ErrorsNameTheCallAndTheDescriptor) {
  auto epoll = Epoll::create().value();
  auto [a, b] = socket_pair().value();
  epoll.add(a.fd(), EPOLLIN, 1).value();
  auto again = epoll.add(a.fd(), EPOLLIN, 1);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), std::errc::file_exists);
  EXPECT_NE(std::string(again.error().what()).find("epoll_ctl(ADD) on descriptor"), std::string::npos)
      << again.error().what();
  auto missing = epoll.modify(b.fd(), EPOLLIN, 1);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), std::errc::no_such_file_or_directory);
}

TEST(StartConnect, NeverWaitsAndFinishesOnceWritable) {
  auto listener = listen_on(Address::loopback(AF_INET, 0)).value();
  const auto to = listener.local_address().value();
  auto connecting = start_connect(to).value();
  if (!connecting.connected) {
    auto epoll = Epoll::create().value();
    epoll.add(connecting.socket.fd(), EPOLLOUT, 7).value();
    ASSERT_EQ(epoll.wait(2000).value().size(), 1u);
  }
  connecting.socket.finish_connect(to).value();
  auto server = listener.accept().value();
  send_all(connecting.socket.fd(), bytes_of("hi")).value();
  std::byte buffer[2];
  recv_exact(server.fd(), buffer, Deadline::after(2s)).value();
}

TEST(StartConnect, ARefusedConnectNamesTheAddress) {
  // A port that was just open and is closed now: nothing listens there.
  Address to;
  {
    auto listener = listen_on(Address::loopback(AF_INET, 0)).value();
    to = listener.local_address().value();
  }
  auto connecting = start_connect(to);
  Result<void> outcome = connecting ? Result<void>() : Result<void>(connecting.error());
  if (connecting && !connecting->connected) {
    auto epoll = Epoll::create().value();
    epoll.add(connecting->socket.fd(), EPOLLOUT, 7).value();
    ASSERT_EQ(epoll.wait(2000).value().size(), 1u);
    outcome = connecting->socket.finish_connect(to);
  }
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().code(), std::errc::connection_refused);
  EXPECT_EQ(std::string(outcome.error().what()), "connect to " + to.to_string() + " failed: Connection refused");
}

}  // namespace
}  // namespace sockit::net
