#include <gtest/gtest.h>

#include "serve/services/services.hpp"
#include "test_support.hpp"

namespace sockit::serve::services {
namespace {

using sockit::testing::bytes_of;

TEST(LengthDatagrams, RepliesWithTheNotesSentence) {
  std::string complaint;
  EXPECT_EQ(make_length_udp({})->answer(bytes_of("hello"), {}, complaint), "The msg was 5 bytes long");
  EXPECT_TRUE(complaint.empty());
}

TEST(LengthDatagrams, CountsBytesNotCharacters) {
  std::string complaint;
  // "é" is two bytes in UTF-8, and a NUL is a byte like any other.
  EXPECT_EQ(make_length_udp({})->answer(bytes_of(std::string_view("\xc3\xa9\0", 3)), {}, complaint),
            "The msg was 3 bytes long");
}

TEST(LengthDatagrams, AnswersAnEmptyDatagram) {
  std::string complaint;
  EXPECT_EQ(make_length_udp({})->answer(bytes_of(""), {}, complaint), "The msg was 0 bytes long");
}

TEST(LengthService, HasNoTcpForm) { EXPECT_EQ(make_tcp("length", {}), nullptr); }

}  // namespace
}  // namespace sockit::serve::services
