#include <gtest/gtest.h>

#include <map>
#include <string>
#include <thread>
#include <vector>

#include "serve/services/services.hpp"
#include "session_test_support.hpp"
#include "test_support.hpp"

namespace sockit::serve::services {
namespace {

using sockit::testing::offer;

using sockit::testing::bytes_of;

// RFC 864: 95 printing characters numbered 0..94 as in its example ('!' first, the space last);
// "on line N, put characters (0+N mod 95) through (71+N mod 95)", then CR LF.
std::string rfc864_line(std::size_t n) {
  std::string printing;
  for (char c = '!'; c <= '~'; ++c) printing += c;
  printing += ' ';
  std::string line;
  for (std::size_t i = 0; i < 72; ++i) line += printing[(n + i) % 95];
  return line + "\r\n";
}

std::vector<std::string> lines_of(std::string_view text) {
  std::vector<std::string> lines;
  while (!text.empty()) {
    const auto end = text.find("\r\n");
    if (end == std::string_view::npos) {
      lines.emplace_back(text);
      break;
    }
    lines.emplace_back(text.substr(0, end + 2));
    text.remove_prefix(end + 2);
  }
  return lines;
}

TEST(ChargenSession, FirstLinesAreTheRfcExample) {
  auto session = make_chargen_tcp({})->new_session({});
  Output out;
  EXPECT_EQ(session->open(out), Verdict::keep_going);
  const auto lines = lines_of(out.text());
  ASSERT_GE(lines.size(), 2U);
  EXPECT_EQ(lines[0], "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefgh\r\n");
  EXPECT_EQ(lines[1], "\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghi\r\n");
}

TEST(ChargenSession, EveryLineIs74BytesAndStartsOneCharacterLater) {
  auto session = make_chargen_tcp({})->new_session({});
  Output out;
  session->open(out);
  while (out.size() < 200 * 74) session->writable(out);  // past the 95-line period twice
  ASSERT_EQ(out.size() % 74, 0U);
  const auto lines = lines_of(out.text());
  for (std::size_t n = 0; n < lines.size(); ++n) ASSERT_EQ(lines[n], rfc864_line(n)) << "line " << n;
  EXPECT_EQ(lines[94][0], ' ');
  EXPECT_EQ(lines[95], lines[0]);
}

TEST(ChargenSession, ProducesBoundedChunksSoTheModelCanApplyBackPressure) {
  auto session = make_chargen_tcp({})->new_session({});
  Output out;
  session->open(out);
  EXPECT_GT(out.size(), 0U);
  EXPECT_LE(out.size(), 64U * 1024);
  const auto first = out.size();
  EXPECT_EQ(session->writable(out), Verdict::keep_going);
  EXPECT_GT(out.size(), first);
  EXPECT_LE(out.size() - first, 64U * 1024);
}

TEST(ChargenSession, ThrowsInputAwayWithoutAnswering) {
  auto session = make_chargen_tcp({})->new_session({});
  Output out;
  session->open(out);
  const auto produced = out.size();
  EXPECT_EQ(offer(*session, bytes_of("stop please\n"), out), Verdict::keep_going);
  EXPECT_EQ(out.size(), produced);
}

TEST(ChargenService, ProducesWithoutInput) {
  EXPECT_TRUE(make_chargen_tcp({})->produces_without_input());
  EXPECT_FALSE(make_echo_tcp({})->produces_without_input());
}

TEST(ChargenDatagrams, AnswerIsOneLineRotatingPerRequest) {
  std::string complaint;
  auto service = make_chargen_udp({});
  const auto first = service->answer(bytes_of("x"), {}, complaint);
  const auto second = service->answer(bytes_of(""), {}, complaint);
  EXPECT_EQ(first, rfc864_line(0));
  EXPECT_EQ(second, rfc864_line(1));
  EXPECT_LE(first->size(), 512U);  // RFC 864: between 0 and 512 characters
  EXPECT_TRUE(complaint.empty());
}

TEST(ChargenDatagrams, ThreadsSharingTheServiceEachGetADistinctLine) {
  auto service = make_chargen_udp({});
  constexpr int kThreads = 4;
  constexpr int kEach = 95;  // 380 answers: each of the 95 lines exactly 4 times
  std::vector<std::vector<std::string>> answers(kThreads);
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        std::string complaint;
        for (int i = 0; i < kEach; ++i) answers[t].push_back(*service->answer(bytes_of("x"), {}, complaint));
      });
    }
  }
  std::map<std::string, int> seen;
  for (const auto& list : answers) {
    for (const auto& a : list) ++seen[a];
  }
  EXPECT_EQ(seen.size(), 95U);
  for (std::size_t n = 0; n < 95; ++n) EXPECT_EQ(seen[rfc864_line(n)], kThreads) << "line " << n;
}

}  // namespace
}  // namespace sockit::serve::services
