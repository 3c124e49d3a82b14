#include "tools/nc_chat.hpp"

#include <gtest/gtest.h>

#include <string>

#include "test_support.hpp"

namespace sockit::tools::chat {
namespace {

using sockit::testing::bytes_of;

TEST(ChatText, AnnouncementsReadAsNcatWritesThem) {
  EXPECT_EQ(name_of(5), "<user5>");
  EXPECT_EQ(connected("127.0.0.1", "<user5>"), "<announce> 127.0.0.1 is connected as <user5>.\n");
  EXPECT_EQ(already_connected({}), "<announce> already connected: nobody.\n");
  EXPECT_EQ(already_connected({{"127.0.0.1", "<user4>"}, {"::1", "<user5>"}}),
            "<announce> already connected: 127.0.0.1 as <user4>, ::1 as <user5>.\n");
  EXPECT_EQ(disconnected("<user5>"), "<announce> <user5> is disconnected.\n");
}

TEST(ChatLineFramer, PrefixesEachCompleteLineAndPutsCutLinesTogether) {
  LineFramer framer("<user4>", 100);
  std::string out;
  framer.take(bytes_of("hello\npart"), out);
  EXPECT_EQ(out, "<user4> hello\n");
  framer.take(bytes_of("ial"), out);
  framer.take(bytes_of(" line\n\nlast"), out);
  EXPECT_EQ(out, "<user4> hello\n<user4> partial line\n<user4> \n");
  framer.flush(out);
  EXPECT_EQ(out, "<user4> hello\n<user4> partial line\n<user4> \n<user4> last\n");
  EXPECT_EQ(framer.held(), 0u);
}

TEST(ChatLineFramer, EscapesControlAndHighBytesAsNcatDoes) {
  LineFramer framer("<user4>", 100);
  std::string out;
  framer.take(bytes_of(std::string("tab\there\r\x01\x1b\x7f\xc3\xa9\n", 15)), out);
  EXPECT_EQ(out, "<user4> tab\there\r\\001\\033\\177\\303\\251\n");
}

TEST(ChatLineFramer, HoldsAtMostMaxLineBytesOfAnEndlessLine) {
  LineFramer framer("<u>", 8);
  std::string out;
  for (int i = 0; i < 1000; ++i) {
    framer.take(bytes_of("abcde"), out);
    ASSERT_LE(framer.held(), 8u);
  }
  // 5000 bytes: 624 lines of 8, and the last 8 wait for what ends them.
  EXPECT_EQ(out.size(), 624u * (4 + 8 + 1));
  EXPECT_EQ(framer.held(), 8u);
  EXPECT_EQ(out.substr(0, 13), "<u> abcdeabc\n");
}

TEST(ChatLineFramer, ALineOfExactlyMaxLineBytesIsOneLine) {
  LineFramer framer("<u>", 4);
  std::string out;
  framer.take(bytes_of("abcd"), out);
  EXPECT_EQ(out, "");
  framer.take(bytes_of("\nabcdef\n"), out);
  EXPECT_EQ(out, "<u> abcd\n<u> abcd\n<u> ef\n");
}

TEST(ChatLineFramer, AZeroLimitStillMakesProgress) {
  LineFramer framer("<u>", 0);
  std::string out;
  framer.take(bytes_of("ab\n"), out);
  EXPECT_EQ(out, "<u> a\n<u> b\n");
}

}  // namespace
}  // namespace sockit::tools::chat
