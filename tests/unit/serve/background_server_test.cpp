#include "serve/background_server.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "net/io.hpp"
#include "net/socket.hpp"
#include "serve/log.hpp"
#include "serve/services/services.hpp"
#include "test_support.hpp"

namespace sockit::serve {
namespace {

using namespace std::chrono_literals;
using sockit::testing::eventually;

std::string text_of(std::FILE* file) {
  std::string text(1 << 16, '\0');
  const auto n = ::pread(::fileno(file), text.data(), text.size(), 0);
  text.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return text;
}

std::size_t count_of(const std::string& text, const std::string& part) {
  std::size_t count = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++count;
  return count;
}

// The admin endpoint and Cascade's block server run on a BackgroundServer: a flood of the main
// service's clients could take every descriptor before its thread opened its epoll, and it then
// never served again (the admin page unreachable for good: test_admin's shed test, under load).
TEST(BackgroundServer, ARunStartedOutOfDescriptorsServesOnceTheyComeBack) {
  const auto echo = services::make_echo_tcp({});
  std::FILE* log_file = std::tmpfile();
  ASSERT_NE(log_file, nullptr);
  Log log(log_file);
  auto listener = net::listen_on(net::Address::loopback(AF_INET, 0)).value();
  const auto address = listener.local_address().value();
  {
    sockit::testing::TightDescriptorLimit limit(64);
    ASSERT_TRUE(limit.ok());
    auto taken = sockit::testing::take_every_descriptor();
    taken.resize(taken.size() - 2);  // the StopSignal's two eventfds, made in the constructor; the run gets none
    BackgroundServer server(std::move(listener), *echo, Limits{}, {.threads = 1, .offload = false, .log = &log});
    ASSERT_TRUE(eventually([&] { return text_of(log_file).find("server stopped") != std::string::npos; }))
        << text_of(log_file);
    std::this_thread::sleep_for(600ms);  // a few more runs fail, unlogged: one line for the spell
    taken.clear();

    auto client = net::connect_to(address, 5s);
    ASSERT_TRUE(client) << client.error().what();
    const auto deadline = net::Deadline::after(10s);  // the next run starts within its pause
    ASSERT_TRUE(net::send_all(client->fd(), sockit::testing::bytes_of("back"), deadline));
    std::string answer(4, '\0');
    ASSERT_TRUE(net::recv_exact(client->fd(), std::as_writable_bytes(std::span(answer)), deadline));
    EXPECT_EQ(answer, "back");
  }
  const auto text = text_of(log_file);
  EXPECT_EQ(count_of(text, "echo server stopped: "), 1u) << text;
  EXPECT_NE(text.find("Too many open files; trying again every 250 ms"), std::string::npos) << text;
  std::fclose(log_file);
}

}  // namespace
}  // namespace sockit::serve
