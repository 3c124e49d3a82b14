#include "net/io.hpp"

#include <gtest/gtest.h>
#include <poll.h>

#include <unistd.h>

#include <atomic>
#include <future>
#include <cstdlib>
#include <numeric>
#include <thread>
#include <vector>

#include "net/fd.hpp"
#include "net/options.hpp"
#include "net/socket.hpp"
#include "test_support.hpp"

namespace sockit::net {
namespace {

using namespace std::chrono_literals;
using sockit::testing::bytes_of;

TEST(SendAll, SurvivesPartialWritesToASlowReader) {
  auto [writer, reader] = socket_pair().value();
  set_send_buffer(writer.fd(), 1024).value();
  set_receive_buffer(reader.fd(), 1024).value();
  set_nonblocking(writer.fd()).value();  // every send is short once the tiny buffer fills

  std::vector<std::byte> data(1 << 20);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::byte>(i * 7 + i / 251);

  std::vector<std::byte> received;
  std::thread slow([&, fd = reader.fd()] {
    std::byte chunk[700];
    for (;;) {
      auto n = recv_some(fd, chunk).value();
      if (n == 0) break;
      received.insert(received.end(), chunk, chunk + n);
      if (received.size() % 64 == 0) std::this_thread::sleep_for(50us);
    }
  });
  auto sent = send_all(writer.fd(), data);
  writer.shutdown(SHUT_WR).value();
  slow.join();
  ASSERT_TRUE(sent) << sent.error().what();
  EXPECT_EQ(received, data);
}

TEST(SendAll, ABlockingSocketWhosePeerStopsReadingTimesOutInsteadOfBlocking) {
  // Writable means room for one byte, not for all of them: a blocking send() after poll() would
  // sleep in the kernel, deadline or not.
  auto [writer, reader] = socket_pair().value();
  const std::vector<std::byte> data(16 << 20);
  auto sending = std::async(std::launch::async, [&, fd = writer.fd()] {
    return send_all(fd, data, Deadline::after(300ms));
  });
  const bool returned = sending.wait_for(5s) == std::future_status::ready;
  if (!returned) reader.close();  // unblocks the sender, so that the test can end
  ASSERT_TRUE(returned) << "send_all blocked past its deadline";
  auto sent = sending.get();
  ASSERT_FALSE(sent);
  EXPECT_TRUE(sent.error().timed_out()) << sent.error().what();
}

TEST(SendAll, ToAClosedPeerIsAnErrorNotSigpipe) {
  auto [a, b] = socket_pair().value();
  b.close();
  auto r = send_all(a.fd(), bytes_of("anyone there?"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), std::errc::broken_pipe);
}

TEST(RecvExact, EarlyEofSaysHowManyBytesArrived) {
  auto [a, b] = socket_pair().value();
  send_all(a.fd(), bytes_of("abc")).value();
  a.close();
  std::byte buffer[8];
  auto r = recv_exact(b.fd(), buffer);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::unexpected_eof);
  EXPECT_NE(std::string(r.error().what()).find("3 of 8 bytes arrived"), std::string::npos) << r.error().what();
}

TEST(RecvExact, CollectsAMessageSentInPieces) {
  auto [a, b] = socket_pair().value();
  std::thread sender([fd = a.fd()] {
    for (char c : std::string("0123456789")) {
      send_all(fd, bytes_of(std::string_view(&c, 1))).value();
      std::this_thread::sleep_for(1ms);
    }
  });
  std::byte buffer[10];
  recv_exact(b.fd(), buffer, Deadline::after(5s)).value();
  sender.join();
  EXPECT_EQ(sockit::testing::text_of(buffer), "0123456789");
}

TEST(RecvSome, ZeroMeansEof) {
  auto [a, b] = socket_pair().value();
  a.close();
  std::byte buffer[4];
  EXPECT_EQ(recv_some(b.fd(), buffer).value(), 0u);
}

TEST(RecvSome, GivesUpAtTheDeadline) {
  auto [a, b] = socket_pair().value();
  std::byte buffer[4];
  const auto start = std::chrono::steady_clock::now();
  auto r = recv_some(b.fd(), buffer, Deadline::after(50ms));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().timed_out());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 50ms);
}

TEST(TryRecv, WouldBlockIsAValueNotAnError) {
  auto [a, b] = socket_pair().value();
  std::byte buffer[4];
  EXPECT_EQ(try_recv(b.fd(), buffer).value(), std::nullopt);
  send_all(a.fd(), bytes_of("x")).value();
  EXPECT_EQ(try_recv(b.fd(), buffer).value(), 1u);
  a.close();
  EXPECT_EQ(try_recv(b.fd(), buffer).value(), 0u) << "EOF is 0, not would-block";
}

TEST(TrySend, WouldBlockWhenTheSendBufferIsFull) {
  auto [a, b] = socket_pair().value();
  const std::vector<std::byte> chunk(64 * 1024);
  std::size_t sent = 0;
  for (;;) {
    auto n = try_send(a.fd(), chunk).value();
    if (!n) break;
    sent += *n;
    ASSERT_LT(sent, 64u << 20) << "a socketpair never filled up";
  }
  EXPECT_GT(sent, 0u);
}

TEST(TrySendfile, SendsAFileRangeAndResumesWhereItStopped) {
  char path[] = "/tmp/sockit-sendfile-XXXXXX";
  Fd file(::mkstemp(path));
  ASSERT_TRUE(file);
  ::unlink(path);
  const std::string text = "0123456789abcdefghij";
  ASSERT_EQ(::write(file.get(), text.data(), text.size()), static_cast<ssize_t>(text.size()));
  auto [a, b] = socket_pair().value();
  EXPECT_EQ(try_sendfile(a.fd(), file.get(), 5, 4).value(), 4u);
  EXPECT_EQ(try_sendfile(a.fd(), file.get(), 9, 3).value(), 3u);
  EXPECT_EQ(try_sendfile(a.fd(), file.get(), 100, 3).value(), 0u) << "past the end of the file";
  std::byte buffer[16];
  EXPECT_EQ(recv_some(b.fd(), buffer).value(), 7u);
  EXPECT_EQ(as_text(std::span(buffer, 7)), "56789ab");
}

TEST(TryRecv, ResetByPeerIsReportedAsConnectionReset) {
  // TCP, because after a reset getpeername() fails (ENOTCONN) while the error is being built.
  auto listener = listen_on(Address::loopback(AF_INET, 0)).value();
  auto client = connect_to(listener.local_address().value(), 2s).value();
  auto server = listener.accept().value();
  set_linger(server.fd(), std::chrono::seconds(0)).value();
  server.close();  // linger 0: RST instead of FIN
  std::byte buffer[4];
  wait_ready(client.fd(), POLLIN, Deadline::after(2s)).value();
  auto r = try_recv(client.fd(), buffer);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), std::errc::connection_reset) << r.error().what();
}

TEST(RecvSome, WaitsOnANonBlockingSocketInsteadOfFailing) {
  auto [a, b] = socket_pair().value();
  set_nonblocking(b.fd()).value();
  std::thread late([fd = a.fd()] {
    std::this_thread::sleep_for(20ms);
    send_all(fd, bytes_of("late")).value();
  });
  std::byte buffer[4];
  auto n = recv_some(b.fd(), buffer, Deadline::after(5s));
  late.join();
  EXPECT_EQ(n.value(), 4u);
}

}  // namespace
}  // namespace sockit::net
