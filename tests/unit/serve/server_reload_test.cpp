// Server::reload: services start, stop and change while connections stay open; listeners that
// stay are never closed; a reload that cannot be served changes nothing; drained units leave no
// thread behind.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "net/io.hpp"
#include "net/socket.hpp"
#include "serve/server.hpp"
#include "test_support.hpp"
#include "until_stopped.hpp"

namespace sockit::serve {
namespace {

using namespace std::chrono_literals;
using sockit::testing::eventually;
using sockit::testing::bytes_of;

ServiceConfig on_loopback(const std::string& name, std::string model = {}) {
  auto s = service_config(name, 0);
  s.listen = {net::Address::loopback(AF_INET, 0)};
  s.udp = false;
  s.model = std::move(model);
  return s;
}

ServerConfig with(std::vector<ServiceConfig> services) {
  static Log log(stderr, false);
  ServerConfig config;
  if (std::getenv("SOCKIT_TEST_LOG")) config.log = &log;
  config.services = std::move(services);
  config.grace_period = 200ms;
  return config;
}

net::Address address_of(const Server& server, std::string_view service) {
  for (const auto& l : server.listening())
    if (l.service == service && l.transport == Transport::tcp) return l.address;
  throw std::runtime_error(fmt::format("{} is not listening", service));
}

struct Running : sockit::testing::UntilStopped {
  explicit Running(Server& server) : UntilStopped([&server](StopSignal& stop) { server.run(stop); }) {}
};

// Sends `text` and reads as many bytes back; "<failed>" if either fails (never throws: client
// threads call it too).
std::string round_trip(const net::Socket& socket, std::string_view text) {
  const auto deadline = net::Deadline::after(5s);
  std::string answer(text.size(), '\0');
  if (!net::send_all(socket.fd(), bytes_of(text), deadline) ||
      !net::recv_exact(socket.fd(), std::as_writable_bytes(std::span(answer)), deadline))
    return "<failed>";
  return answer;
}

bool refused(const net::Address& at) {
  auto socket = net::connect_to(at, 2s);
  return !socket && socket.error().code() == std::errc::connection_refused;
}

std::size_t threads_now() {
  return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator("/proc/self/task"),
                                                std::filesystem::directory_iterator()));
}

// A count once it has not changed for 300 ms (at most 10 s): threads that start or end by
// themselves (a model's loops, a drained run being joined) have done so.
template <typename Count>
std::size_t settled(Count&& count) {
  auto last = count();
  auto since = std::chrono::steady_clock::now();
  const auto end = since + 10s;
  while (std::chrono::steady_clock::now() < end && std::chrono::steady_clock::now() - since < 300ms) {
    std::this_thread::sleep_for(20ms);
    if (const auto now = count(); now != last) {
      last = now;
      since = std::chrono::steady_clock::now();
    }
  }
  return last;
}

std::size_t fds_now() { return static_cast<std::size_t>(sockit::testing::open_fd_count()); }

// The service answers: its model run is up (a connect alone only reaches the listen backlog).
bool answers(const Server& server, std::string_view service, std::string_view request, std::string_view reply) {
  auto socket = net::connect_to(address_of(server, service), 5s);
  return socket && round_trip(*socket, request).starts_with(reply);
}


class Reload : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const auto models = available_models();
    if (std::find(models.begin(), models.end(), GetParam()) == models.end())
      GTEST_SKIP() << GetParam() << " is not available in this build or kernel";
  }
};

TEST(ServerReload, AChangedGraceWaitsForARestartAndChangesNoService) {
  auto settings = on_loopback("echo", "epoll");
  settings.limits.grace_period = 200ms;  // what resolve() gives every service: the server's
  Server server(with({settings}));
  auto config = with({settings});
  config.grace_period = 3s;
  config.services.front().limits.grace_period = 3s;
  const auto report = server.reload(config);
  EXPECT_TRUE(report.changed.empty()) << "grace is the server's, kept until a restart";
  EXPECT_EQ(report.restart_only, std::vector<std::string>{"grace"});
}

TEST_P(Reload, AddsAServiceWhileTheConnectionsOfTheOthersGoOn) {
  Server server(with({on_loopback("echo", GetParam())}));
  const auto echo = address_of(server, "echo");
  Running running(server);
  auto open = net::connect_to(echo, 5s).value();
  EXPECT_EQ(round_trip(open, "before"), "before");

  const auto report = server.reload(with({on_loopback("echo", GetParam()), on_loopback("upper", GetParam())}));
  EXPECT_EQ(report.started, std::vector<std::string>{"upper"});
  EXPECT_TRUE(report.stopped.empty());
  EXPECT_TRUE(report.changed.empty());
  ASSERT_EQ(report.new_listeners.size(), 1u);
  EXPECT_EQ(address_of(server, "echo"), echo) << "a listener that stays keeps its port";

  EXPECT_EQ(round_trip(open, "after"), "after") << "the open connection was dropped";
  auto upper = net::connect_to(address_of(server, "upper"), 5s).value();
  EXPECT_EQ(round_trip(upper, "new"), "NEW");
  auto fresh = net::connect_to(echo, 5s).value();
  EXPECT_EQ(round_trip(fresh, "fresh"), "fresh");
  EXPECT_TRUE(running.stop_and_wait());
}

TEST_P(Reload, ARemovedServiceRefusesNewClientsAtOnceAndItsConnectionGoesOnToItsEnd) {
  Server server(with({on_loopback("echo", GetParam()), on_loopback("upper", GetParam())}));
  const auto upper = address_of(server, "upper");
  Running running(server);
  auto open = net::connect_to(upper, 5s).value();
  EXPECT_EQ(round_trip(open, "a"), "A");

  const auto threads_while_both = settled(threads_now);  // a pool's run starts its workers one by one
  const auto report = server.reload(with({on_loopback("echo", GetParam())}));
  EXPECT_EQ(report.stopped, std::vector<std::string>{"upper"});
  EXPECT_TRUE(refused(upper)) << "a removed service's listener must refuse at once";
  EXPECT_EQ(round_trip(open, "still"), "STILL") << "a removed service's connection was dropped";
  open.close();
  // Its draining run ends with its last connection and is joined (the Server looks every 250 ms).
  // Not under fork here: its child, forked in this process, holds a copy of the test's client
  // socket too, so closing it is no end for the child (the integration tests close it for real).
  if (GetParam() != "fork") {
    EXPECT_TRUE(eventually([&] { return threads_now() <= threads_while_both; }))
        << threads_now() << " threads, " << threads_while_both << " before";
  }
  auto echo = net::connect_to(address_of(server, "echo"), 5s).value();
  EXPECT_EQ(round_trip(echo, "e"), "e");
  EXPECT_TRUE(running.stop_and_wait());
}

TEST_P(Reload, ChangedLimitsApplyToNewConnectionsWhileOpenOnesKeepTheirs) {
  auto before = on_loopback("echo", GetParam());
  Server server(with({before}));
  const auto echo = address_of(server, "echo");
  Running running(server);
  auto old_client = net::connect_to(echo, 5s).value();
  EXPECT_EQ(round_trip(old_client, "x"), "x");

  auto after = before;
  after.limits.idle_timeout = 300ms;
  const auto report = server.reload(with({after}));
  EXPECT_EQ(report.changed, std::vector<std::string>{"echo"});
  EXPECT_EQ(address_of(server, "echo"), echo);

  auto new_client = net::connect_to(echo, 5s).value();
  EXPECT_EQ(round_trip(new_client, "y"), "y");
  std::this_thread::sleep_for(900ms);  // both silent, three of the new idle timeouts
  std::byte byte[1];
  EXPECT_EQ(net::recv_some(new_client.fd(), byte, net::Deadline::after(3s)).value(), 0u)
      << "a new connection must get the new idle timeout";
  EXPECT_EQ(round_trip(old_client, "z"), "z") << "an open connection must keep the limits it started with";
  EXPECT_TRUE(running.stop_and_wait());
}

// A new group takes over the listener of the old one: a client connecting all through many
// reloads is never refused, every connection it makes is served, and every new group serves
// before the next reload. The client waits for each echo before it connects again: a client
// that only connects, once a millisecond, filled the backlog (4096) of a thread group on a loaded
// machine, and of a uring group while it started under TSan (90 ms). The fork model's children
// hold copies of the test's client sockets (above): there the client only connects.
TEST_P(Reload, NoClientIsRefusedWhileReloadsReplaceWhatServesAListener) {
  auto settings = on_loopback("echo", GetParam());
  Server server(with({settings}));
  const auto echo = address_of(server, "echo");
  Running running(server);
  std::atomic<bool> done{false};
  std::atomic<int> connects{0};
  std::atomic<int> failures{0};
  std::string first_failure;  // the client thread's, read after its join
  std::thread client([&] {
    const bool served_here = GetParam() != "fork";
    while (!done) {
      const auto began = std::chrono::steady_clock::now();
      auto socket = net::connect_to(echo, 2s);
      std::string failure;
      if (!socket) {  // a reset (a gap in the hand-over) or a timeout (a backlog full for 2 s)?
        failure = socket.error().what();
      } else {
        ++connects;
        if (served_here && round_trip(*socket, "c") != "c") failure = "accepted but not served";
      }
      if (!failure.empty() && failures++ == 0)
        first_failure = fmt::format("{} after {} ms", failure,
                                    std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now() - began).count());
      if (!served_here) std::this_thread::sleep_for(1ms);
    }
  });
  for (int i = 0; i < 20; ++i) {
    settings.limits.max_line = 1000 + static_cast<std::size_t>(i);  // a change: a new group every time
    server.reload(with({settings}));
    if (GetParam() == "fork") {  // its children hold copies of the test's client sockets (above)
      std::this_thread::sleep_for(10ms);
      continue;
    }
    auto probe = net::connect_to(echo, 5s).value();
    EXPECT_EQ(round_trip(probe, "r"), "r") << "after reload " << i;
  }
  done = true;
  client.join();
  EXPECT_EQ(failures.load(), 0) << "of " << connects.load() << " connects; the first: " << first_failure;
  EXPECT_GT(connects.load(), 20);
  EXPECT_TRUE(running.stop_and_wait());
}

INSTANTIATE_TEST_SUITE_P(Models, Reload,
                         ::testing::Values("iterative", "fork", "thread", "pool", "select", "poll", "epoll", "uring"),
                         [](const auto& info) { return info.param; });

TEST(ServerReload, AReloadThatCannotBeServedChangesNothing) {
  Server server(with({on_loopback("echo")}));
  const auto echo = address_of(server, "echo");
  Running running(server);

  auto bad_model = with({on_loopback("echo", "nosuch"), on_loopback("upper")});
  EXPECT_THROW(server.reload(bad_model), ConfigError);

  auto taken = net::listen_on(net::Address::loopback(AF_INET, 0)).value();
  auto upper = on_loopback("upper");
  upper.ports = {taken.local_address().value().port()};
  EXPECT_THROW(server.reload(with({on_loopback("echo"), upper})), net::Error);

  ASSERT_EQ(server.listening().size(), 1u);
  EXPECT_EQ(address_of(server, "echo"), echo);
  auto client = net::connect_to(echo, 5s).value();
  EXPECT_EQ(round_trip(client, "same"), "same");
  EXPECT_TRUE(running.stop_and_wait());
}

TEST(ServerReload, TheSameConfigurationAgainChangesNothingAndStartsNoThread) {
  const auto config = with({on_loopback("echo"), on_loopback("fib", "thread")});
  Server server(config);
  Running running(server);
  ASSERT_TRUE(answers(server, "echo", "e", "e") && answers(server, "fib", "10\n", "55"));
  const auto threads = settled(threads_now);
  for (int i = 0; i < 20; ++i) {
    const auto report = server.reload(config);
    EXPECT_TRUE(report.started.empty() && report.stopped.empty() && report.changed.empty());
  }
  EXPECT_EQ(settled(threads_now), threads);
  EXPECT_TRUE(running.stop_and_wait());
}

TEST(ServerReload, ManyReloadsThatReplaceEverythingLeaveNoThreadOrDescriptor) {
  auto echo = on_loopback("echo", "thread");
  auto upper = on_loopback("upper", "epoll");
  Server server(with({echo, upper}));
  Running running(server);
  ASSERT_TRUE(answers(server, "echo", "e", "e") && answers(server, "upper", "u", "U"));
  const auto threads = settled(threads_now);
  const auto fds = settled(fds_now);
  for (int i = 0; i < 50; ++i) {
    echo.limits.max_line = 100 + static_cast<std::size_t>(i);
    server.reload(i % 2 ? with({echo, upper}) : with({echo}));
  }
  server.reload(with({echo, upper}));
  ASSERT_TRUE(answers(server, "echo", "e", "e") && answers(server, "upper", "u", "U"));
  EXPECT_TRUE(eventually([&] { return settled(threads_now) == threads; }, 20s)) << threads_now() << " threads, " << threads;
  EXPECT_TRUE(eventually([&] { return settled(fds_now) == fds; }, 20s)) << fds_now() << " descriptors, " << fds;
  EXPECT_TRUE(running.stop_and_wait());
}

// What an admin page reads (listening(), services()) while reloads change the server on another
// thread: always one reload's whole picture (a service's settings and its listeners agree), and
// never a wait for a reload to finish (one may hold the server's lock for seconds).
TEST(ServerReload, ReadersSeeEachReloadWholeWhileItChangesTheServer) {
  auto echo = on_loopback("echo", "epoll");
  auto upper = on_loopback("upper", "thread");
  Server server(with({echo}));
  Running running(server);
  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::atomic<int> torn{0};
  std::thread reader([&] {
    while (!done.load()) {
      const auto services = server.services();
      const auto listening = server.listening();
      for (const auto& s : services) {
        EXPECT_FALSE(s.model.empty()) << s.name << ": the model is resolved";
        if (s.name == "upper" && s.admission.per_source != 3) ++torn;  // upper is only ever served with it
      }
      EXPECT_FALSE(listening.empty());
      ++reads;
    }
  });
  upper.admission.per_source = 3;
  for (int i = 0; i < 20; ++i) {
    const auto report = server.reload(with(i % 2 == 0 ? std::vector{echo, upper} : std::vector{echo}));
    EXPECT_EQ(i % 2 == 0 ? report.started : report.stopped, std::vector<std::string>{"upper"});
    const auto services = server.services();
    ASSERT_EQ(services.size(), i % 2 == 0 ? 2u : 1u) << "a reload's services, once it returned";
    EXPECT_EQ(services.front().name, "echo");
  }
  done = true;
  reader.join();
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(torn.load(), 0);
  EXPECT_TRUE(running.stop_and_wait());
}

TEST(ServerReload, PerSourceCountsSurviveAReloadThatReplacesTheModelRun) {
  auto settings = on_loopback("echo");
  settings.admission.per_source = 1;
  Server server(with({settings}));
  const auto echo = address_of(server, "echo");
  Running running(server);
  auto held = net::connect_to(echo, 5s).value();
  EXPECT_EQ(round_trip(held, "1"), "1");
  settings.limits.max_line = 4096;  // a new model run; the same Admission
  server.reload(with({settings}));
  auto second = net::connect_to(echo, 5s).value();
  EXPECT_EQ(sockit::testing::read_until_eof(second.fd(), 5s), "") << "the second connection from 127.0.0.1";
  EXPECT_EQ(round_trip(held, "2"), "2");
  EXPECT_TRUE(running.stop_and_wait());
}

TEST(ServerReload, BeforeRunItOnlyChangesWhatRunWillServe) {
  Server server(with({on_loopback("echo")}));
  server.reload(with({on_loopback("upper")}));
  Running running(server);
  auto upper = net::connect_to(address_of(server, "upper"), 5s).value();
  EXPECT_EQ(round_trip(upper, "up"), "UP");
  EXPECT_TRUE(running.stop_and_wait());
}

}  // namespace
}  // namespace sockit::serve
