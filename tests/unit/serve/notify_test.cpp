// The notification protocol against a datagram socket the test binds, as systemd's own.
#include "serve/notify.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

#include "net/io.hpp"
#include "net/socket.hpp"
#include "test_support.hpp"

namespace sockit::serve {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

// One datagram from `receiver`, within a second.
std::string next_message(const net::Socket& receiver) {
  std::string buffer(4096, '\0');
  net::Address from;
  const auto n = net::recv_from(receiver.fd(), std::as_writable_bytes(std::span(buffer)), from,
                                net::Deadline::after(1s))
                     .value();
  buffer.resize(n);
  return buffer;
}

TEST(Notifier, WithoutASocketEverySendDoesNothing) {
  const auto notifier = Notifier::create("").value();
  EXPECT_FALSE(notifier.active());
  EXPECT_TRUE(notifier.send("READY=1").has_value());
}

TEST(Notifier, SendsOneDatagramToAPath) {
  testing::TempDir dir;
  const auto path = dir.file("notify");
  auto receiver = net::bind_datagram(net::Address::unix_path(path).value()).value();
  const auto notifier = Notifier::create(path).value();
  EXPECT_TRUE(notifier.active());
  notifier.send("READY=1\nSTATUS=serving").value();
  EXPECT_EQ(next_message(receiver), "READY=1\nSTATUS=serving");
}

TEST(Notifier, SendsToTheAbstractNamespace) {
  const std::string name = "sockit-notify-test-" + std::to_string(::getpid());
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  std::memcpy(un.sun_path + 1, name.data(), name.size());
  const net::Address abstract(reinterpret_cast<const sockaddr*>(&un),
                              static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size()));
  auto receiver = net::bind_datagram(abstract).value();
  Notifier::create("@" + name).value().send("STOPPING=1").value();
  EXPECT_EQ(next_message(receiver), "STOPPING=1");
}

TEST(Notifier, RefusesARelativePath) {
  const auto notifier = Notifier::create("run/notify");
  ASSERT_FALSE(notifier.has_value());
  EXPECT_THAT(notifier.error().what(), HasSubstr("NOTIFY_SOCKET=run/notify"));
  EXPECT_THAT(notifier.error().what(), HasSubstr("neither an absolute path nor @name"));
}

TEST(Notifier, SayingWhereWhenNobodyListens) {
  testing::TempDir dir;
  const auto sent = Notifier::create(dir.file("gone")).value().send("READY=1");
  ASSERT_FALSE(sent.has_value());
  EXPECT_THAT(sent.error().what(), HasSubstr("send to NOTIFY_SOCKET=" + dir.file("gone") + " failed"));
}

// The process's notifier: the only test here that uses it, so NOTIFY_SOCKET is read here first.
TEST(ProcessNotifier, ReportsEachStateFromNotifySocketAndUnsetsIt) {
  testing::TempDir dir;
  const auto path = dir.file("notify");
  auto receiver = net::bind_datagram(net::Address::unix_path(path).value()).value();
  ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  notify_ready("serving echo\non 2 listeners").value();
  EXPECT_EQ(std::getenv("NOTIFY_SOCKET"), nullptr);
  EXPECT_EQ(next_message(receiver), "READY=1\nSTATUS=serving echo on 2 listeners");  // one line: no injection
  notify_reloading().value();
  EXPECT_THAT(next_message(receiver), MatchesRegex("RELOADING=1\nMONOTONIC_USEC=[0-9]+"));
  notify_status("reloaded").value();
  EXPECT_EQ(next_message(receiver), "STATUS=reloaded");
  notify_stopping("stopping").value();
  EXPECT_EQ(next_message(receiver), "STOPPING=1\nSTATUS=stopping");
}

}  // namespace
}  // namespace sockit::serve
