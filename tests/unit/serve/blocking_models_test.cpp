#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "net/io.hpp"
#include "net/socket.hpp"
#include "serve/model.hpp"
#include "serve/models/blocking_session.hpp"
#include "serve/services/services.hpp"
#include "test_support.hpp"

namespace sockit::serve {
namespace {

using namespace std::chrono_literals;
using sockit::testing::text_of;

std::string echo_through(const net::Address& server, std::string_view text) {
  auto client = net::connect_to(server, 5s).value();
  net::send_all(client.fd(), net::as_bytes(text), net::Deadline::after(5s)).value();
  std::string reply(text.size(), '\0');
  net::recv_exact(client.fd(), std::as_writable_bytes(std::span(reply)), net::Deadline::after(5s)).value();
  return reply;
}

class BlockingModel : public ::testing::TestWithParam<std::string> {};

TEST_P(BlockingModel, ServesEchoThenStopsWhenAsked) {
  auto model = make_model(GetParam(), {});
  ASSERT_NE(model, nullptr);
  auto service = services::make_echo_tcp({});
  auto listener = net::listen_on(net::Address::loopback(AF_INET, 0)).value();
  const auto address = listener.local_address().value();
  StopSignal stop;
  Limits limits;
  limits.grace_period = 1s;
  std::thread server([&] { model->run(listener, *service, limits, stop); });
  EXPECT_EQ(echo_through(address, "first"), "first");
  EXPECT_EQ(echo_through(address, std::string(100000, 'x')), std::string(100000, 'x'));
  stop.request();
  server.join();
}

TEST_P(BlockingModel, StopClosesAnIdleConnection) {
  auto model = make_model(GetParam(), {});
  auto service = services::make_echo_tcp({});
  auto listener = net::listen_on(net::Address::loopback(AF_INET, 0)).value();
  StopSignal stop;
  Limits limits;
  limits.grace_period = 2s;
  std::thread server([&] { model->run(listener, *service, limits, stop); });
  auto idle = net::connect_to(listener.local_address().value(), 5s).value();
  net::send_all(idle.fd(), net::as_bytes("a")).value();
  std::byte one[1];
  net::recv_exact(idle.fd(), one, net::Deadline::after(5s)).value();
  const auto started = std::chrono::steady_clock::now();
  stop.request();
  server.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1500ms) << "an idle client must not hold up stop";
  EXPECT_EQ(net::recv_some(idle.fd(), one, net::Deadline::after(5s)).value(), 0u);
}

TEST_P(BlockingModel, RunAllServesEveryEndpointAndStopsThemAll) {
  auto model = make_model(GetParam(), {});
  auto echo = services::make_echo_tcp({});
  auto upper = services::make_upper_tcp({});
  auto echo_listener = net::listen_on(net::Address::loopback(AF_INET, 0)).value();
  auto upper_listener = net::listen_on(net::Address::loopback(AF_INET, 0)).value();
  const Endpoint endpoints[] = {{echo_listener, *echo}, {upper_listener, *upper}};
  StopSignal stop;
  Limits limits;
  limits.grace_period = 1s;
  std::thread server([&] { model->run_all(endpoints, limits, stop); });
  EXPECT_EQ(echo_through(echo_listener.local_address().value(), "echo"), "echo");
  EXPECT_EQ(echo_through(upper_listener.local_address().value(), "upper"), "UPPER");
  stop.request();
  server.join();
}

INSTANTIATE_TEST_SUITE_P(All, BlockingModel, ::testing::Values("iterative", "fork", "thread", "pool"),
                         [](const auto& info) { return info.param; });

TEST(ServeBlocking, ClosesAClientSilentPastTheIdleTimeout) {
  auto [server_end, client_end] = net::socket_pair().value();
  auto service = services::make_echo_tcp({});
  StopSignal stop;
  Limits limits;
  limits.idle_timeout = 100ms;
  const auto started = std::chrono::steady_clock::now();
  models::blocking::serve_blocking(server_end, "test client", *service, limits, stop, models::ModelLog());
  EXPECT_GE(std::chrono::steady_clock::now() - started, 100ms);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
}

TEST(ServeBlocking, AnswersInputSplitAcrossWritesAndEndsAtEof) {
  auto [server_end, client_end] = net::socket_pair().value();
  net::send_all(client_end.fd(), net::as_bytes("ab")).value();
  net::send_all(client_end.fd(), net::as_bytes("cd")).value();
  client_end.shutdown(SHUT_WR).value();
  auto service = services::make_echo_tcp({});
  StopSignal stop;
  models::blocking::serve_blocking(server_end, "test client", *service, Limits{}, stop, models::ModelLog());
  server_end.close();
  std::byte buffer[16];
  std::string got;
  while (auto n = net::recv_some(client_end.fd(), buffer, net::Deadline::after(5s)).value())
    got += text_of(std::span(buffer).first(n));
  EXPECT_EQ(got, "abcd");
}

}  // namespace
}  // namespace sockit::serve
