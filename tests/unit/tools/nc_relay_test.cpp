#include "tools/nc_relay.hpp"

#include <fcntl.h>
#include <poll.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <string>
#include <thread>

#include "net/fd.hpp"
#include "net/io.hpp"
#include "net/socket.hpp"
#include "pipe_fixture.hpp"
#include "test_support.hpp"

namespace sockit::tools {
namespace {

using namespace std::chrono_literals;
using net::Fd;
using sockit::testing::bytes_of;

using sockit::testing::Pipe;

void write_text(int fd, const std::string& text) {
  ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
}

std::string read_all(int fd) { return sockit::testing::read_until_eof(fd, 5s); }

const RelayOptions kBounded{.idle_timeout = 5000ms,
                            .linger_after_input_eof = 0ms,
                            .peer_name = {},
                            .quit_after_input_eof = {},
                            .ask_on_empty_input = false};

RelayOptions with_quit(std::chrono::milliseconds after) {
  RelayOptions options = kBounded;
  options.quit_after_input_eof = after;
  return options;
}

/// A peer that echoes everything it gets on `fd`, then half-closes after the other side's FIN.
void echo_until_eof(int fd) {
  char buffer[65536];
  for (;;) {
    auto n = net::recv_some(fd, std::as_writable_bytes(std::span(buffer)), net::Deadline::after(5s));
    if (!n || *n == 0) break;
    if (!net::send_all(fd, std::as_bytes(std::span(buffer, *n)), net::Deadline::after(5s))) break;
  }
  ::shutdown(fd, SHUT_WR);
}

TEST(RelayStream, InputEofSendsFinAndTheRelayKeepsReceivingUntilThePeerCloses) {
  Pipe input, output;
  auto [mine, peer] = net::socket_pair().value();
  auto relay = std::async(std::launch::async, [&, fd = mine.fd()] {
    return relay_stream(input.read_end.get(), output.write_end.get(), fd, kBounded);
  });
  write_text(input.write_end.get(), "hel");
  write_text(input.write_end.get(), "lo");
  input.write_end.reset();
  EXPECT_EQ(read_all(peer.fd()), "hello");  // EOF here: the relay sent FIN
  net::send_all(peer.fd(), bytes_of("reply after your FIN")).value();
  peer.close();
  auto result = relay.get().value();
  output.write_end.reset();
  EXPECT_EQ(read_all(output.read_end.get()), "reply after your FIN");
  EXPECT_EQ(result.sent, 5u);
  EXPECT_EQ(result.received, 20u);
  EXPECT_FALSE(result.timed_out);
}

TEST(RelayStream, PeerFinFirstStillDeliversAllInput) {
  Pipe input, output;
  auto [mine, peer] = net::socket_pair().value();
  peer.shutdown(SHUT_WR).value();
  auto relay = std::async(std::launch::async, [&, fd = mine.fd()] {
    return relay_stream(input.read_end.get(), output.write_end.get(), fd, kBounded);
  });
  write_text(input.write_end.get(), "late input");
  input.write_end.reset();
  EXPECT_EQ(read_all(peer.fd()), "late input");
  auto result = relay.get().value();
  EXPECT_EQ(result.sent, 10u);
  EXPECT_EQ(result.received, 0u);
}

TEST(RelayStream, BulkBytesArriveIntactThroughSplice) {
  Pipe input, output;
  auto [mine, peer] = net::socket_pair().value();
  std::string data(8 << 20, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 7919) >> 3);
  std::thread feeder([&] {
    std::size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::write(input.write_end.get(), data.data() + done, data.size() - done);
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    input.write_end.reset();
  });
  // The peer echoes everything it gets, then closes after our FIN.
  std::thread echo(echo_until_eof, peer.fd());
  std::string echoed;
  std::thread drain([&] { echoed = read_all(output.read_end.get()); });
  auto result = relay_stream(input.read_end.get(), output.write_end.get(), mine.fd(), kBounded);
  output.write_end.reset();
  feeder.join();
  echo.join();
  drain.join();
  ASSERT_TRUE(result) << result.error().what();
  EXPECT_EQ(result->sent, data.size());
  EXPECT_EQ(result->received, data.size());
  EXPECT_TRUE(result->zero_copy);
  EXPECT_TRUE(echoed == data) << "echoed " << echoed.size() << " bytes, differing";
}

TEST(RelayStream, FilesAtBothEndsGoThroughTheRelayPipe) {
  // Neither end is a pipe: the relay splices through a pipe of its own (file -> pipe -> socket).
  Fd input(::memfd_create("relay-input", MFD_CLOEXEC));
  Fd output(::memfd_create("relay-output", MFD_CLOEXEC));
  const std::string data(300000, 'f');
  write_text(input.get(), data);
  ASSERT_EQ(::lseek(input.get(), 0, SEEK_SET), 0);
  auto [mine, peer] = net::socket_pair().value();
  std::thread echo(echo_until_eof, peer.fd());
  auto result = relay_stream(input.get(), output.get(), mine.fd(), kBounded);
  echo.join();
  ASSERT_TRUE(result) << result.error().what();
  EXPECT_TRUE(result->zero_copy);
  ASSERT_EQ(::lseek(output.get(), 0, SEEK_SET), 0);
  EXPECT_EQ(read_all(output.get()), data);
}

TEST(RelayStream, PeerThatLeavesBeforeTakingInputIsAFailure) {
  Pipe input, output;
  auto [mine, peer] = net::socket_pair().value();
  peer.close();
  write_text(input.write_end.get(), "nobody will read this");
  input.write_end.reset();
  auto result = relay_stream(input.read_end.get(), output.write_end.get(), mine.fd(), kBounded);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), std::errc::broken_pipe);
}

TEST(RelayStream, IdleTimeoutEndsASilentTransfer) {
  Pipe input, output;
  auto [mine, peer] = net::socket_pair().value();
  auto result = relay_stream(input.read_end.get(), output.write_end.get(), mine.fd(),
                             {.idle_timeout = 50ms, .linger_after_input_eof = 0ms, .peer_name = {}, .quit_after_input_eof = {}, .ask_on_empty_input = false})
                    .value();
  EXPECT_TRUE(result.timed_out);
}

TEST(RelayStream, OutputWhoseReaderLeftEndsTheRelayWithoutAnError) {
  Pipe input, output;
  auto [mine, peer] = net::socket_pair().value();
  output.read_end.reset();  // `nc ... | head` after head exited
  net::send_all(peer.fd(), bytes_of("more than anyone reads")).value();
  auto result = relay_stream(input.read_end.get(), output.write_end.get(), mine.fd(), kBounded);
  ASSERT_TRUE(result) << result.error().what();
  EXPECT_TRUE(result->output_closed);
  EXPECT_FALSE(result->timed_out);
}

TEST(RelayStream, QuitAfterInputEofEndsAlthoughThePeerStaysOpen) {
  Pipe input, output;
  auto [mine, peer] = net::socket_pair().value();
  input.write_end.reset();
  const auto started = std::chrono::steady_clock::now();
  auto result = relay_stream(input.read_end.get(), output.write_end.get(), mine.fd(), with_quit(100ms)).value();
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_FALSE(result.timed_out);
  EXPECT_GE(took, 90ms);
  EXPECT_LT(took, 3s);  // not the 5 s idle timeout
}

TEST(RelayDatagrams, EmptyInputAsksWithOneEmptyDatagram) {
  Pipe input, output;
  auto [mine, peer] = net::socket_pair(SOCK_DGRAM).value();
  input.write_end.reset();
  RelayOptions options = kBounded;
  options.linger_after_input_eof = 50ms;
  options.ask_on_empty_input = true;
  auto result = relay_datagrams(input.read_end.get(), output.write_end.get(), mine.fd(), options).value();
  char got[16];
  EXPECT_EQ(::recv(peer.fd(), got, sizeof got, MSG_DONTWAIT), 0);  // a datagram of no bytes
  EXPECT_EQ(result.sent, 0u);
}

TEST(RelayDatagrams, OutputWhoseReaderLeftEndsTheRelayWithoutAnError) {
  Pipe input, output;
  auto [mine, peer] = net::socket_pair(SOCK_DGRAM).value();
  output.read_end.reset();
  net::send_all(peer.fd(), bytes_of("reply")).value();
  auto result = relay_datagrams(input.read_end.get(), output.write_end.get(), mine.fd(), kBounded);
  ASSERT_TRUE(result) << result.error().what();
  EXPECT_TRUE(result->output_closed);
}

TEST(RelayDatagrams, EachDatagramIsWrittenAndInputBecomesDatagrams) {
  Pipe input, output;
  auto [mine, peer] = net::socket_pair(SOCK_DGRAM).value();
  net::send_all(peer.fd(), bytes_of("one")).value();
  net::send_all(peer.fd(), bytes_of("two")).value();
  write_text(input.write_end.get(), "ping");
  input.write_end.reset();
  auto result = relay_datagrams(input.read_end.get(), output.write_end.get(), mine.fd(),
                                {.idle_timeout = 5000ms, .linger_after_input_eof = 100ms, .peer_name = {}, .quit_after_input_eof = {}, .ask_on_empty_input = false})
                    .value();
  output.write_end.reset();
  EXPECT_EQ(read_all(output.read_end.get()), "onetwo");
  char got[16];
  EXPECT_EQ(::recv(peer.fd(), got, sizeof got, MSG_DONTWAIT), 4);
  EXPECT_EQ(std::string(got, 4), "ping");
  EXPECT_EQ(result.sent, 4u);
  EXPECT_EQ(result.received, 6u);
  EXPECT_FALSE(result.timed_out);
}

}  // namespace
}  // namespace sockit::tools
