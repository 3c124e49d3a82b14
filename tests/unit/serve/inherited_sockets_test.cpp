// Socket activation without systemd: the test places sockets at descriptors of its choosing (far
// above 3, so nothing of the test runner's is touched) and hands adopt_listen_fds() the variables.
#include "serve/inherited_sockets.hpp"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "net/options.hpp"
#include "net/socket.hpp"
#include "test_support.hpp"

namespace sockit::serve {
namespace {

using ::testing::HasSubstr;

constexpr int kFirst = 200;  // where the test puts "passed" descriptors

// Moves `socket` to descriptor `at` (as a service manager passes it: no close-on-exec).
void place(net::Socket socket, int at) {
  ASSERT_EQ(::dup2(socket.fd(), at), at);
}

net::Socket tcp_listener() { return net::listen_on(net::Address::loopback(AF_INET, 0)).value(); }
net::Socket udp_socket() { return net::bind_datagram(net::Address::loopback(AF_INET, 0)).value(); }

ListenEnvironment passed(int count, std::optional<std::string> names = std::nullopt) {
  return {std::to_string(::getpid()), std::to_string(count), std::move(names)};
}

std::string config_error(const std::function<void()>& call) {
  try {
    call();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no ConfigError";
}

InheritedSockets shared(std::vector<InheritedSocket> sockets) {
  InheritedSockets all;
  for (auto& s : sockets) all.push_back(std::make_shared<const InheritedSocket>(std::move(s)));
  return all;
}

TEST(AdoptListenFds, TakesAListeningTcpAndABoundUdpSocketWithTheirNames) {
  const int before = testing::open_fd_count();
  {
    auto tcp = tcp_listener();
    auto udp = udp_socket();
    const auto tcp_address = tcp.local_address().value();
    const auto udp_address = udp.local_address().value();
    place(std::move(tcp), kFirst);
    place(std::move(udp), kFirst + 1);
    auto sockets = adopt_listen_fds(passed(2, "echo:daytime"), ::getpid(), kFirst);
    ASSERT_EQ(sockets.size(), 2u);
    EXPECT_EQ(sockets[0].fd, kFirst);
    EXPECT_EQ(sockets[0].name, "echo");
    EXPECT_EQ(sockets[0].type, SOCK_STREAM);
    EXPECT_EQ(sockets[0].address, tcp_address);
    EXPECT_EQ(sockets[1].name, "daytime");
    EXPECT_EQ(sockets[1].type, SOCK_DGRAM);
    EXPECT_EQ(sockets[1].address, udp_address);
    for (const auto& s : sockets) EXPECT_EQ(::fcntl(s.socket.fd(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
    EXPECT_EQ(sockets[0].describe(), "fd 200 'echo' (TCP " + tcp_address.to_string() + ")");
  }
  EXPECT_EQ(testing::open_fd_count(), before);  // the sockets own their descriptors
}

TEST(AdoptListenFds, IgnoresVariablesMeantForAnotherProcess) {
  place(tcp_listener(), kFirst);
  const ListenEnvironment elsewhere{std::to_string(::getpid() + 1), "1", std::nullopt};
  EXPECT_TRUE(adopt_listen_fds(elsewhere, ::getpid(), kFirst).empty());
  EXPECT_NE(::fcntl(kFirst, F_GETFD), -1);  // left alone: not ours to close
  ::close(kFirst);
}

TEST(AdoptListenFds, NothingWithoutTheVariables) {
  EXPECT_TRUE(adopt_listen_fds({}, ::getpid(), kFirst).empty());
}

TEST(AdoptListenFds, RefusesATcpSocketThatIsNotListening) {
  place(net::Socket::create(AF_INET, SOCK_STREAM).value(), kFirst);
  EXPECT_THAT(config_error([] { (void)adopt_listen_fds(passed(1), ::getpid(), kFirst); }),
              HasSubstr("fd 200 (0.0.0.0:0) is a TCP socket that is not listening"));
}

TEST(AdoptListenFds, RefusesWhatIsNotAnIpSocket) {
  int ends[2];
  ASSERT_EQ(::pipe(ends), 0);
  ASSERT_EQ(::dup2(ends[0], kFirst), kFirst);
  ::close(ends[0]);
  ::close(ends[1]);
  EXPECT_THAT(config_error([] { (void)adopt_listen_fds(passed(1), ::getpid(), kFirst); }),
              HasSubstr("fd 200 is not a socket"));
  auto unix_pair = net::socket_pair(SOCK_DGRAM).value();
  place(std::move(unix_pair.first), kFirst);
  EXPECT_THAT(config_error([] { (void)adopt_listen_fds(passed(1), ::getpid(), kFirst); }),
              HasSubstr("fd 200 is not an IPv4 or IPv6 socket"));
}

TEST(AdoptListenFds, RefusesADescriptorThatWasNotPassed) {
  ::close(kFirst);
  EXPECT_THAT(config_error([] { (void)adopt_listen_fds(passed(1), ::getpid(), kFirst); }),
              HasSubstr("fd 200 is not open"));
}

TEST(AdoptListenFds, RefusesMalformedVariables) {
  const auto pid = std::to_string(::getpid());
  EXPECT_THAT(config_error([&] { (void)adopt_listen_fds({pid, "two", std::nullopt}, ::getpid(), kFirst); }),
              HasSubstr("LISTEN_FDS=two is not a number"));
  EXPECT_THAT(config_error([&] { (void)adopt_listen_fds({pid, "99999", std::nullopt}, ::getpid(), kFirst); }),
              HasSubstr("LISTEN_FDS=99999"));
  EXPECT_THAT(config_error([&] { (void)adopt_listen_fds({"me", "1", std::nullopt}, ::getpid(), kFirst); }),
              HasSubstr("LISTEN_PID=me"));
  place(tcp_listener(), kFirst);
  EXPECT_THAT(config_error([&] { (void)adopt_listen_fds({pid, "1", "echo:daytime"}, ::getpid(), kFirst); }),
              HasSubstr("has 2 names for LISTEN_FDS=1"));
  ::close(kFirst);
}

TEST(TakeListenEnvironment, ReadsAndUnsetsTheVariables) {
  ::setenv("LISTEN_PID", "12", 1);
  ::setenv("LISTEN_FDS", "2", 1);
  ::setenv("LISTEN_FDNAMES", "a:b", 1);
  const auto found = take_listen_environment();
  EXPECT_EQ(found.pid, "12");
  EXPECT_EQ(found.fds, "2");
  EXPECT_EQ(found.names, "a:b");
  EXPECT_EQ(std::getenv("LISTEN_PID"), nullptr);
  EXPECT_EQ(std::getenv("LISTEN_FDS"), nullptr);
  EXPECT_EQ(std::getenv("LISTEN_FDNAMES"), nullptr);
}

// Sockets as adopt_listen_fds() gives them, made here.
InheritedSocket inherited(net::Socket socket, std::string name, int fd) {
  InheritedSocket s;
  s.socket = std::move(socket);
  s.fd = fd;
  s.name = std::move(name);
  s.address = s.socket.local_address().value();
  s.type = net::socket_type(s.socket.fd()).value();
  return s;
}

TEST(UseInheritedSockets, ByNameEveryServiceThatGotOneAndOnlyThose) {
  std::vector<InheritedSocket> list;
  list.push_back(inherited(tcp_listener(), "echo", 3));
  list.push_back(inherited(udp_socket(), "echo", 4));
  list.push_back(inherited(udp_socket(), "daytime", 5));
  ServerConfig config;
  use_inherited_sockets(shared(std::move(list)), config);
  ASSERT_EQ(config.services.size(), 2u);
  EXPECT_EQ(config.services[0].name, "echo");
  EXPECT_EQ(config.services[1].name, "daytime");
  EXPECT_EQ(config.inherited.at("echo").size(), 2u);
  EXPECT_TRUE(inherited_allows(config, "echo", SOCK_STREAM));
  EXPECT_FALSE(inherited_allows(config, "daytime", SOCK_STREAM));  // given only UDP: binds no TCP of its own
  EXPECT_TRUE(inherited_allows(config, "fib", SOCK_STREAM));      // given nothing: binds its own
}

TEST(UseInheritedSockets, WithoutANameByTheServicesPort) {
  auto tcp = tcp_listener();
  const auto port = tcp.local_address().value().port();
  std::vector<InheritedSocket> list;
  list.push_back(inherited(std::move(tcp), "sockit.socket", 3));  // systemd's default name: the unit's
  ServerConfig config;
  config.services = {service_config("fib"), service_config("echo", port)};
  use_inherited_sockets(shared(std::move(list)), config);
  EXPECT_EQ(config.services.size(), 2u);  // named services stay; fib binds its own
  ASSERT_TRUE(config.inherited.contains("echo"));
  EXPECT_FALSE(config.inherited.contains("fib"));
}

TEST(UseInheritedSockets, OnAPortOfTwoServicesTheOneWithTheSocketsTransport) {
  auto udp = udp_socket();
  const auto port = udp.local_address().value().port();
  std::vector<InheritedSocket> list;
  list.push_back(inherited(std::move(udp), "", 3));
  ServerConfig config;
  config.services = {service_config("fib", port), service_config("length", port)};  // fib TCP only, length UDP only
  use_inherited_sockets(shared(std::move(list)), config);
  EXPECT_TRUE(config.inherited.contains("length"));
  EXPECT_FALSE(config.inherited.contains("fib"));
}

TEST(UseInheritedSockets, RefusesASocketThatMatchesNoService) {
  std::vector<InheritedSocket> list;
  list.push_back(inherited(tcp_listener(), "bogus", 3));
  ServerConfig config;
  config.services = {service_config("echo", 0)};
  const auto sockets = shared(std::move(list));
  EXPECT_THAT(config_error([&] { use_inherited_sockets(sockets, config); }),
              HasSubstr("fd 3 'bogus' (TCP 127.0.0.1:"));
  EXPECT_THAT(config_error([&] { use_inherited_sockets(sockets, config); }),
              HasSubstr("matches no service: name it after one (FileDescriptorName=echo) or bind the port of one "
                        "(echo 0)"));
}

TEST(UseInheritedSockets, RefusesATcpSocketForAUdpOnlyService) {
  std::vector<InheritedSocket> list;
  list.push_back(inherited(tcp_listener(), "length", 3));
  ServerConfig config;
  const auto sockets = shared(std::move(list));
  EXPECT_THAT(config_error([&] { use_inherited_sockets(sockets, config); }),
              HasSubstr("is a TCP socket, but length is UDP only"));
}

TEST(UseInheritedSockets, RefusesATransportTurnedOff) {
  std::vector<InheritedSocket> list;
  list.push_back(inherited(udp_socket(), "echo", 3));
  ServerConfig config;
  config.services = {service_config("echo")};
  config.services[0].udp = false;
  const auto sockets = shared(std::move(list));
  EXPECT_THAT(config_error([&] { use_inherited_sockets(sockets, config); }),
              HasSubstr("is a UDP socket, but only TCP is served here (--tcp)"));
}

TEST(UseInheritedSockets, RefusesANamedServiceNotAskedFor) {
  std::vector<InheritedSocket> list;
  list.push_back(inherited(tcp_listener(), "daytime", 3));
  ServerConfig config;
  config.services = {service_config("echo")};
  const auto sockets = shared(std::move(list));
  EXPECT_THAT(config_error([&] { use_inherited_sockets(sockets, config); }),
              HasSubstr("is named after a service not asked for here (echo 10007)"));
}

TEST(InheritedListeners, DuplicatesAndKeepsTheOriginals) {
  std::vector<InheritedSocket> list;
  list.push_back(inherited(tcp_listener(), "echo", 3));
  const auto sockets = shared(std::move(list));
  ServerConfig config;
  use_inherited_sockets(sockets, config);
  const int original = sockets.front()->socket.fd();
  {
    auto copies = inherited_listeners(config, "echo", SOCK_STREAM);
    ASSERT_EQ(copies.size(), 1u);
    EXPECT_NE(copies[0].fd(), original);
    EXPECT_EQ(copies[0].local_address().value(), sockets.front()->address);
    EXPECT_TRUE(inherited_listeners(config, "echo", SOCK_DGRAM).empty());
  }
  EXPECT_NE(::fcntl(original, F_GETFD), -1);  // a Server's copies closed, the original still open
}

TEST(SingleInheritedListener, OneTcpSocketOrNone) {
  EXPECT_FALSE(single_inherited_listener({}).has_value());
  std::vector<InheritedSocket> one;
  one.push_back(inherited(tcp_listener(), "", 3));
  EXPECT_TRUE(single_inherited_listener(shared(std::move(one))).has_value());
  std::vector<InheritedSocket> two;
  two.push_back(inherited(tcp_listener(), "", 3));
  two.push_back(inherited(tcp_listener(), "", 4));
  const auto both = shared(std::move(two));
  EXPECT_THAT(config_error([&] { (void)single_inherited_listener(both); }), HasSubstr("2 sockets passed"));
  std::vector<InheritedSocket> udp;
  udp.push_back(inherited(udp_socket(), "", 3));
  const auto datagram = shared(std::move(udp));
  EXPECT_THAT(config_error([&] { (void)single_inherited_listener(datagram); }), HasSubstr("is not a TCP socket"));
}

}  // namespace
}  // namespace sockit::serve
