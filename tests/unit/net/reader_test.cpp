#include "net/reader.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "net/socket.hpp"
#include "test_support.hpp"

namespace sockit::net {
namespace {

using namespace std::chrono_literals;
using sockit::testing::bytes_of;

TEST(Reader, ReadsALineSplitOverManySmallWrites) {
  auto [a, b] = socket_pair().value();
  std::thread writer([fd = a.fd()] {
    const std::string text = "hello, line one\nsecond";
    for (char c : text) {
      send_all(fd, bytes_of(std::string_view(&c, 1))).value();
      std::this_thread::sleep_for(200us);
    }
    send_all(fd, bytes_of(" line\n")).value();
  });
  Reader reader(b.fd(), 4);  // smaller than a line: the reader must refill mid-line
  EXPECT_EQ(reader.read_line(100, LineEnd::newline, Deadline::after(5s)).value(), "hello, line one");
  EXPECT_EQ(reader.read_line(100, LineEnd::newline, Deadline::after(5s)).value(), "second line");
  writer.join();
}

TEST(Reader, TooLongLineIsAnErrorNamingTheLimit) {
  auto [a, b] = socket_pair().value();
  send_all(a.fd(), bytes_of(std::string(100, 'x') + "\n")).value();
  Reader reader(b.fd());
  auto r = reader.read_line(16);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::line_too_long);
  EXPECT_NE(std::string(r.error().what()).find("max 16 bytes"), std::string::npos) << r.error().what();
}

TEST(Reader, AcceptsTheNotesNulTerminatorWhenAsked) {
  auto [a, b] = socket_pair().value();
  send_all(a.fd(), bytes_of(std::string_view("37\0" "12\n", 6))).value();
  Reader reader(b.fd());
  EXPECT_EQ(reader.read_line(10, LineEnd::newline_or_nul).value(), "37");
  EXPECT_EQ(reader.read_line(10, LineEnd::newline_or_nul).value(), "12");
}

TEST(Reader, KeepsNulInsideALineByDefault) {
  auto [a, b] = socket_pair().value();
  send_all(a.fd(), bytes_of(std::string_view("a\0b\n", 4))).value();
  Reader reader(b.fd());
  EXPECT_EQ(reader.read_line(10).value(), std::string("a\0b", 3));
}

TEST(Reader, EofEndsLinesCleanly) {
  auto [a, b] = socket_pair().value();
  send_all(a.fd(), bytes_of("last line without newline")).value();
  a.close();
  Reader reader(b.fd());
  EXPECT_EQ(reader.read_line(100).value(), "last line without newline");
  EXPECT_EQ(reader.read_line(100).value(), std::nullopt);
}

TEST(Reader, MixesLinesAndExactReads) {
  auto [a, b] = socket_pair().value();
  send_all(a.fd(), bytes_of("HEAD 5\nabcdeTAIL\n")).value();
  Reader reader(b.fd(), 8);
  EXPECT_EQ(reader.read_line(20).value(), "HEAD 5");
  std::byte body[5];
  reader.read_exact(body).value();
  EXPECT_EQ(sockit::testing::text_of(body), "abcde");
  EXPECT_EQ(reader.read_line(20).value(), "TAIL");
}

TEST(Reader, ReadExactLargerThanTheBufferAndEarlyEof) {
  auto [a, b] = socket_pair().value();
  send_all(a.fd(), bytes_of(std::string(100, 'z'))).value();
  a.close();
  Reader reader(b.fd(), 8);
  std::byte big[64];
  reader.read_exact(big).value();
  std::byte rest[64];
  auto r = reader.read_exact(rest);
  ASSERT_FALSE(r);
  EXPECT_NE(std::string(r.error().what()).find("36 of 64 bytes arrived"), std::string::npos) << r.error().what();
}

TEST(Reader, ReadSomeHandsOutBufferedBytesFirst) {
  auto [a, b] = socket_pair().value();
  send_all(a.fd(), bytes_of("line\nrest")).value();
  Reader reader(b.fd());
  EXPECT_EQ(reader.read_line(10).value(), "line");
  std::byte out[16];
  auto n = reader.read_some(out).value();
  EXPECT_EQ(sockit::testing::text_of(std::span(out, n)), "rest");
}

}  // namespace
}  // namespace sockit::net
