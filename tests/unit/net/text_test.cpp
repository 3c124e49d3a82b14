#include "net/text.hpp"

#include <gtest/gtest.h>

namespace sockit::net {
namespace {

TEST(PrintableText, KeepsPrintableAsciiAsItIs) {
  EXPECT_EQ(printable("untracked cascade hash 00ff (see ~/x)"), "untracked cascade hash 00ff (see ~/x)");
}

TEST(PrintableText, ReplacesEscapesNewlinesAndNonAsciiBytes) {
  EXPECT_EQ(printable("\x1b[2J\x1b]0;pwned\x07ok\r\nsockit: forged\tline\x7f\xc3\xa9"),
            "?[2J?]0;pwned?ok??sockit: forged?line???");
}

TEST(PrintableText, CutsLongTextAndSaysSo) {
  EXPECT_EQ(printable(std::string(300, 'a'), 5), "aaaaa...");
  EXPECT_EQ(printable("abcde", 5), "abcde");
  EXPECT_EQ(printable(std::string(kShownMax + 1, 'b')).size(), kShownMax + 3);
}

TEST(PrintableText, KeepsEmbeddedNulOut) {
  EXPECT_EQ(printable(std::string_view("a\0b", 3)), "a?b");
}

TEST(CountedNoun, IsSingularOnlyForOne) {
  EXPECT_EQ(counted(1, "block"), "1 block");
  EXPECT_EQ(counted(0, "block"), "0 blocks");
  EXPECT_EQ(counted(3, "hash", "hashes"), "3 hashes");
  EXPECT_EQ(counted(1, "hash", "hashes"), "1 hash");
}

}  // namespace
}  // namespace sockit::net
