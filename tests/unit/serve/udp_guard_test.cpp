// UdpGuard: the checks, the rate and the log together, as the UDP threads use them.
#include "serve/udp_guard.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace sockit::serve {
namespace {

using namespace std::chrono_literals;
const UdpGuard::Time t0 = UdpGuard::Clock::now();

net::Address at(std::string_view text) { return net::Address::parse(text).value(); }

// A Log into a temporary file, read back as text.
class CapturedLog {
 public:
  CapturedLog() : file_(std::tmpfile(), &std::fclose), log_(file_.get()) {}
  Log* get() { return &log_; }
  std::string text() {
    std::fflush(file_.get());
    std::rewind(file_.get());
    std::string all;
    char buffer[4096];
    while (std::size_t n = std::fread(buffer, 1, sizeof buffer, file_.get())) all.append(buffer, n);
    return all;
  }
  int lines_with(std::string_view needle) {
    const auto all = text();
    int n = 0;
    for (auto p = all.find(needle); p != std::string::npos; p = all.find(needle, p + 1)) ++n;
    return n;
  }

 private:
  std::unique_ptr<std::FILE, decltype(&std::fclose)> file_;
  Log log_;
};

const net::Address kEcho = at("127.0.0.1:7777");
const UdpGuard::Listener kListener{"echo", kEcho};

TEST(UdpGuard, RefusesAReflectorAndLogsOneLineForTheWholeSpell) {
  CapturedLog log;
  UdpGuard guard({}, log.get());
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(guard.admit(at("127.0.0.1:10019"), kListener, t0 + 1ms * i));
  EXPECT_EQ(guard.refused(Refusal::reflector_port), 1000u);
  EXPECT_EQ(log.text(),
            "udp: refusing datagrams from 127.0.0.1:10019 to echo/udp at 127.0.0.1:7777: source port 10019 is "
            "chargen (a service that answers: a reflection loop) (reflector-port); the rest of this spell is "
            "counted, not logged\n");
  guard.tick(t0 + 5s);
  EXPECT_EQ(log.lines_with("\n"), 1) << "still in the spell";
  guard.tick(t0 + 11s);
  EXPECT_EQ(log.lines_with("udp: refused 1000 datagrams in 1.0 s (reflector-port)\n"), 1);
}

TEST(UdpGuard, AdmitsAnOrdinaryClient) {
  CapturedLog log;
  UdpGuard guard({}, log.get());
  EXPECT_TRUE(guard.admit(at("127.0.0.1:41234"), kListener, t0));
  EXPECT_TRUE(guard.may_reply(at("127.0.0.1:41234"), kListener, t0));
  EXPECT_EQ(log.text(), "");
}

TEST(UdpGuard, RefusesDatagramsFromTheListenersOwnPortOrAnotherOfItsPorts) {
  UdpGuard guard({.policy = {.own_ports = {7777, 8888}, .broadcasts = {}}}, nullptr);
  EXPECT_FALSE(guard.admit(at("127.0.0.1:7777"), kListener, t0));
  EXPECT_FALSE(guard.admit(at("[::ffff:127.0.0.1]:7777"), kListener, t0));
  EXPECT_FALSE(guard.admit(at("127.0.0.1:8888"), kListener, t0));
  EXPECT_EQ(guard.refused(Refusal::this_port), 2u);
  EXPECT_EQ(guard.refused(Refusal::own_port), 1u);
}

TEST(UdpGuard, LimitsRepliesPerSourceAndLogsTheSpellOnce) {
  CapturedLog log;
  UdpGuard guard({.rate = 100}, log.get());  // bursts of 25
  int replies = 0;
  for (int i = 0; i < 1000; ++i) replies += guard.may_reply(at("127.0.0.1:41234"), kListener, t0) ? 1 : 0;
  EXPECT_EQ(replies, 25);
  EXPECT_EQ(guard.refused(Refusal::rate_limited), 975u);
  EXPECT_EQ(log.lines_with("(rate-limited); the rest of this spell is counted"), 1);
  EXPECT_TRUE(guard.may_reply(at("127.0.0.2:41234"), kListener, t0)) << "another source is not held back";
}

// DatagramLoop asks about a whole batch of replies under one lock: the answers must be those of
// asking one by one, in order, and a spell that starts inside the batch is logged once.
TEST(UdpGuard, ABatchOfRepliesIsJudgedAsOneByOne) {
  CapturedLog log;
  UdpGuard guard({.rate = 100}, log.get());  // bursts of 25
  std::vector<net::Address> sources;
  for (int i = 0; i < 30; ++i) sources.push_back(at(i % 2 ? "127.0.0.1:41234" : "127.0.0.2:41234"));
  bool allowed[30];
  guard.may_reply(sources, kListener, t0, allowed);
  for (int i = 0; i < 30; ++i) EXPECT_TRUE(allowed[i]) << i << ": 15 each, within the burst";
  guard.may_reply(sources, kListener, t0, allowed);
  for (int i = 0; i < 30; ++i) EXPECT_EQ(allowed[i], i < 20) << i << ": the 26th of a source runs it dry";
  EXPECT_EQ(guard.refused(Refusal::rate_limited), 10u);
  EXPECT_EQ(log.lines_with("(rate-limited); the rest of this spell is counted"), 1);
}

TEST(UdpGuard, RateZeroMeansNoLimit) {
  UdpGuard guard({.rate = 0}, nullptr);
  for (int i = 0; i < 100'000; ++i) ASSERT_TRUE(guard.may_reply(at("127.0.0.1:41234"), kListener, t0));
}

TEST(UdpGuard, FinishEndsTheOpenSpells) {
  CapturedLog log;
  UdpGuard guard({}, log.get());
  guard.admit(at("127.0.0.1:0"), kListener, t0);
  guard.finish();
  EXPECT_EQ(log.lines_with("udp: refused 1 datagram in 0.0 s (port-zero)\n"), 1);
}

TEST(UdpGuard, CountsExactlyFromManyThreads) {
  UdpGuard guard({.rate = 1000}, nullptr);
  std::vector<std::jthread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&guard, t] {
      const auto source = at("192.0.2." + std::to_string(t + 1) + ":41234");
      for (int i = 0; i < 10'000; ++i) {
        guard.admit(at("127.0.0.1:19"), kListener, t0);
        guard.may_reply(source, kListener, t0);
      }
    });
  threads.clear();
  EXPECT_EQ(guard.refused(Refusal::reflector_port), 40'000u);
  EXPECT_EQ(guard.refused(Refusal::rate_limited), 4u * (10'000 - 250));
}

}  // namespace
}  // namespace sockit::serve
