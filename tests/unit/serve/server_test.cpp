// serve::Server on loopback port-0 listeners: what it binds, what it refuses, and that run()
// serves TCP and UDP until stop and returns.
#include "serve/server.hpp"

#include <fmt/core.h>
#include <gtest/gtest.h>


#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "net/io.hpp"
#include "net/socket.hpp"
#include "test_support.hpp"
#include "until_stopped.hpp"

namespace sockit::serve {
namespace {

using namespace std::chrono_literals;
using sockit::testing::bytes_of;
using sockit::testing::open_fd_count;

struct Named {
  std::string name;
  std::uint16_t port;
};

// Each service on 127.0.0.1 only.
ServerConfig loopback(std::vector<Named> named) {
  ServerConfig config;
  for (const auto& n : named) {
    config.services.push_back(service_config(n.name, n.port));
    config.services.back().listen = {net::Address::loopback(AF_INET, 0)};
  }
  config.grace_period = 200ms;
  return config;
}

// Sets something on every service of `config`.
template <typename Change>
ServerConfig& each(ServerConfig& config, Change&& change) {
  for (auto& s : config.services) change(s);
  return config;
}

Listening find(const Server& server, std::string_view service, Transport transport) {
  const auto all = server.listening();
  auto it = std::find_if(all.begin(), all.end(),
                         [&](const Listening& l) { return l.service == service && l.transport == transport; });
  if (it == all.end()) throw std::runtime_error(fmt::format("{} is not listening", service));
  return *it;
}

// run() on a thread of its own until stop_and_wait() or the end of the test.
struct Running : sockit::testing::UntilStopped {
  explicit Running(Server& server) : UntilStopped([&server](StopSignal& stop) { server.run(stop); }) {}
};

std::string echo_over_tcp(const net::Address& at, std::string_view text) {
  const auto deadline = net::Deadline::after(5s);
  auto socket = net::connect_to(at, 5s).value();
  net::send_all(socket.fd(), bytes_of(text), deadline).value();
  std::string answer(text.size(), '\0');
  net::recv_exact(socket.fd(), std::as_writable_bytes(std::span(answer)), deadline).value();
  return answer;
}

std::string echo_over_udp(const net::Address& at, std::string_view text) {
  auto socket = net::connect_to(at, 5s, SOCK_DGRAM).value();
  net::send_all(socket.fd(), bytes_of(text)).value();
  std::string answer(512, '\0');
  const auto n = net::recv_some(socket.fd(), std::as_writable_bytes(std::span(answer)), net::Deadline::after(5s));
  answer.resize(n.value());
  return answer;
}

TEST(Server, BindsEveryListenerBeforeRunAndSaysWhere) {
  Server server(loopback({{"echo", 0}, {"fib", 0}}));
  ASSERT_EQ(server.listening().size(), 3u);  // echo/tcp, fib/tcp, echo/udp
  EXPECT_EQ(server.listening()[0].service, "echo");
  EXPECT_EQ(server.listening()[1].service, "fib");
  EXPECT_EQ(server.listening()[2].transport, Transport::udp);
  for (const auto& l : server.listening()) {
    EXPECT_EQ(l.address.host(), "127.0.0.1");
    EXPECT_NE(l.address.port(), 0);
  }
  // Bound, not yet served: the kernel completes the handshake into the backlog.
  EXPECT_TRUE(net::connect_to(find(server, "fib", Transport::tcp).address, 5s));
}

TEST(Server, ServesTcpAndUdpUntilStopThenReturns) {
  Server server(loopback({{"echo", 0}}));
  const auto tcp = find(server, "echo", Transport::tcp).address;
  const auto udp = find(server, "echo", Transport::udp).address;
  Running running(server);
  EXPECT_EQ(echo_over_tcp(tcp, "over tcp\n"), "over tcp\n");
  EXPECT_EQ(echo_over_udp(udp, "over udp"), "over udp");
  EXPECT_TRUE(running.stop_and_wait());
}

TEST(Server, StopEndsAnOpenConnectionWithinTheGracePeriod) {
  Server server(loopback({{"echo", 0}}));
  Running running(server);
  auto client = net::connect_to(find(server, "echo", Transport::tcp).address, 5s).value();
  EXPECT_TRUE(running.stop_and_wait());
}

TEST(Server, UdpTakesThePortTcpGotForPortZero) {
  Server server(loopback({{"echo", 0}}));
  EXPECT_EQ(find(server, "echo", Transport::udp).address.port(), find(server, "echo", Transport::tcp).address.port());
}

TEST(Server, ThreadsPerListenerFollowTheModelAndTheThreadCount) {
  auto config = loopback({{"echo", 0}});
  each(config, [](ServiceConfig& s) {
    s.model = "pool";
    s.threads = 3;
  });
  Server pool(config);
  EXPECT_EQ(find(pool, "echo", Transport::tcp).model, "pool");
  EXPECT_EQ(find(pool, "echo", Transport::tcp).threads, 3u);
  EXPECT_EQ(find(pool, "echo", Transport::udp).threads, 3u);

  each(config, [](ServiceConfig& s) { s.model = "thread"; });
  Server per_connection(config);
  EXPECT_EQ(find(per_connection, "echo", Transport::tcp).threads, 0u);
}

TEST(Server, WithoutAModelUsesThePreferredOneOrSaysItFellBack) {
  Server server(loopback({{"echo", 0}}));
  const auto available = available_models();
  const bool have_preferred = std::find(available.begin(), available.end(), kPreferredModel) != available.end();
  EXPECT_EQ(server.model_is_fallback(), !have_preferred);
  if (have_preferred) {
    EXPECT_EQ(find(server, "echo", Transport::tcp).model, kPreferredModel);
  }
}

TEST(Server, EachServiceMayHaveAModelOfItsOwn) {
  auto config = loopback({{"echo", 0}, {"upper", 0}, {"fib", 0}});
  each(config, [](ServiceConfig& s) { s.udp = false; });
  config.services[0].model = "thread";
  config.services[1].model = "poll";
  config.services[2].model = "thread";  // with echo: one model run for both
  Server server(config);
  EXPECT_EQ(find(server, "echo", Transport::tcp).model, "thread");
  EXPECT_EQ(find(server, "upper", Transport::tcp).model, "poll");
  EXPECT_EQ(find(server, "fib", Transport::tcp).model, "thread");
  Running running(server);
  EXPECT_EQ(echo_over_tcp(find(server, "echo", Transport::tcp).address, "e\n"), "e\n");
  EXPECT_EQ(echo_over_tcp(find(server, "upper", Transport::tcp).address, "u\n"), "U\n");
  EXPECT_EQ(echo_over_tcp(find(server, "fib", Transport::tcp).address, "10\n"), "55\n");
  EXPECT_TRUE(running.stop_and_wait());
}

TEST(Server, UdpOnlyHasNoModel) {
  auto config = loopback({{"length", 0}});
  config.services[0].model = "no such model: never looked at without TCP";
  Server server(config);
  ASSERT_EQ(server.listening().size(), 1u);
  EXPECT_EQ(server.listening()[0].model, "");
  Running running(server);
  EXPECT_EQ(echo_over_udp(server.listening()[0].address, "four"), "The msg was 4 bytes long");
  EXPECT_TRUE(running.stop_and_wait());
}

TEST(Server, PortInUseFailsWithTheBindErrorAndLeavesNothingBound) {
  auto taken = net::listen_on(net::Address::loopback(AF_INET, 0)).value();
  const auto port = taken.local_address().value().port();
  auto config = loopback({{"echo", 0}, {"daytime", port}});
  each(config, [](ServiceConfig& s) { s.udp = false; });
  const int before = open_fd_count();
  try {
    Server server(config);
    FAIL() << "bound a port in use";
  } catch (const net::Error& e) {
    EXPECT_EQ(std::string(e.what()), fmt::format("bind to 127.0.0.1:{} failed: Address already in use", port));
  }
  EXPECT_EQ(open_fd_count(), before) << "the echo listener bound first must be closed";
}

bool host_has_ipv6_loopback() {
  auto probe = net::Socket::create(AF_INET6, SOCK_DGRAM);
  return probe && static_cast<bool>(probe->bind(net::Address::loopback(AF_INET6, 0)));
}

// Issue 11, item 2: nothing is reachable from the network unless the user says so.
TEST(Server, WithoutListenBindsLoopbackOnlyIpv4AndIpv6OnOnePort) {
  auto config = loopback({{"echo", 0}});
  config.services[0].listen.clear();
  Server server(config);
  const bool v6 = host_has_ipv6_loopback();
  ASSERT_EQ(server.listening().size(), v6 ? 4u : 2u);
  std::vector<std::string> hosts;
  const auto listening = server.listening();
  for (const auto& l : listening) {
    hosts.push_back(l.address.host());
    EXPECT_EQ(l.address.port(), listening[0].address.port());
  }
  const std::vector<std::string> want = v6 ? std::vector<std::string>{"127.0.0.1", "::1", "127.0.0.1", "::1"}
                                           : std::vector<std::string>{"127.0.0.1", "127.0.0.1"};
  EXPECT_EQ(hosts, want);
  Running running(server);
  for (const auto& l : server.listening()) {
    if (l.transport == Transport::tcp)
      EXPECT_EQ(echo_over_tcp(l.address, "tcp\n"), "tcp\n") << l.address.to_string();
    else
      EXPECT_EQ(echo_over_udp(l.address, "udp"), "udp") << l.address.to_string();
  }
  EXPECT_TRUE(running.stop_and_wait());
}

// Issue 11, item 3: a second server on a UDP port fails as on a TCP port, however many threads
// either has (the old SO_REUSEPORT sockets let it join, and even one SO_REUSEADDR socket did).
TEST(Server, ASecondServerCannotTakeAUdpPort) {
  for (const unsigned threads : {1u, 3u}) {
    auto config = loopback({{"echo", 0}});
    each(config, [&](ServiceConfig& s) {
      s.tcp = false;
      s.threads = threads;
    });
    Server first(config);
    const auto port = first.listening()[0].address.port();
    EXPECT_EQ(first.listening()[0].threads, threads);
    auto second = loopback({{"upper", port}});
    each(second, [&](ServiceConfig& s) {
      s.tcp = false;
      s.threads = threads;
    });
    try {
      Server taker(second);
      ADD_FAILURE() << "a second server bound UDP port " << port << " with " << threads << " threads";
    } catch (const net::Error& e) {
      EXPECT_EQ(std::string(e.what()), fmt::format("bind to 127.0.0.1:{} failed: Address already in use", port));
    }
  }
}

TEST(Server, UdpWithFourThreadsOnOneSocketAnswersEveryDatagram) {
  auto config = loopback({{"echo", 0}});
  each(config, [](ServiceConfig& s) {
    s.tcp = false;
    s.threads = 4;
  });
  Server server(config);
  Running running(server);
  const auto at = server.listening()[0].address;
  for (int i = 0; i < 50; ++i) EXPECT_EQ(echo_over_udp(at, fmt::format("n{}", i)), fmt::format("n{}", i));
  EXPECT_TRUE(running.stop_and_wait());
}

void expect_config_error(const ServerConfig& config, const std::string& message) {
  try {
    Server server(config);
    ADD_FAILURE() << "accepted: " << message;
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), message);
  }
}

TEST(Server, NoServiceIsAConfigError) {
  expect_config_error(ServerConfig{}, "nothing to serve: no service named");
}

TEST(Server, UnknownServiceIsAConfigErrorListingTheServices) {
  expect_config_error(loopback({{"nosuch", 0}}),
                      "unknown service 'nosuch' (services: echo discard daytime chargen time fib upper length incr http)");
}

TEST(Server, HttpWithoutARootIsAConfigError) {
  expect_config_error(loopback({{"http", 0}}), "http needs a root (--root DIR): the directory it serves");
}

TEST(Server, ServiceWithoutTheTransportAskedForIsAConfigError) {
  auto config = loopback({{"fib", 0}});
  config.services[0].tcp = false;
  expect_config_error(config, "fib has no UDP form");
}

TEST(Server, TwoServicesOnOnePortAreAConfigError) {
  expect_config_error(loopback({{"echo", 7000}, {"upper", 7000}}), "port 7000/tcp on 127.0.0.1 is echo's already");
  auto wildcard = loopback({{"echo", 7000}, {"fib", 7000}});
  wildcard.services[1].listen = {net::Address::any(AF_INET6, 0)};  // dual-stack: 127.0.0.1 too
  expect_config_error(wildcard, "port 7000/tcp on :: is echo's already");
  // Another transport, or another address, is no clash.
  auto apart = loopback({{"fib", 7000}, {"length", 7000}});
  EXPECT_TRUE(check(apart).empty());
}

TEST(Server, UnknownModelIsAConfigError) {
  auto config = loopback({{"echo", 0}});
  config.services[0].model = "nosuch";
  try {
    Server server(config);
    ADD_FAILURE() << "accepted model nosuch";
  } catch (const ConfigError& e) {
    EXPECT_TRUE(std::string(e.what()).starts_with("model 'nosuch' is unknown or not available in this build"))
        << e.what();
  }
}

}  // namespace
}  // namespace sockit::serve
