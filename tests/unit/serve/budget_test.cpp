// Session's contract, for every TCP service: with a small output budget a session answers the
// same bytes in the same order as with none, only in more steps, and never holds more than its
// budget plus one answer.
#include <gtest/gtest.h>

#include <string>

#include "serve/services/services.hpp"
#include "session_test_support.hpp"
#include "test_support.hpp"

namespace sockit::serve::services {
namespace {

using sockit::testing::bytes_of;

struct Case {
  std::string service;
  std::string input;
  std::size_t largest_answer;  // the most one request may add
};

struct Drive {
  std::string answers;
  std::size_t most_held = 0;  // the largest output one offer left
};

// Feeds `input` in reads of `read` bytes the way a connection does: what the session leaves is
// offered again, followed by the next read, once its output has been sent.
Drive drive(const Service& service, std::string_view input, std::size_t read, std::size_t budget) {
  auto session = service.new_session({});
  Drive result;
  Output out(budget);
  auto send = [&] {
    result.most_held = std::max(result.most_held, out.size());
    result.answers += sockit::testing::received(out);
    out.clear();
  };
  std::string held;
  for (std::size_t at = 0; at < input.size(); at += read) {
    held += input.substr(at, read);
    while (!held.empty()) {
      const auto taken = session->receive(bytes_of(held), out);
      if (taken.bytes < held.size() && taken.verdict == Verdict::keep_going) {
        EXPECT_TRUE(out.full()) << "left " << held.size() - taken.bytes << " bytes with room for output";
        EXPECT_GT(taken.bytes + out.size(), 0u) << "no progress with an empty output";
        if (taken.bytes + out.size() == 0) return result;
      }
      held.erase(0, taken.bytes);
      send();
      if (taken.verdict == Verdict::close) return result;
    }
  }
  session->end_of_input(out);
  send();
  return result;
}

class Budget : public ::testing::TestWithParam<Case> {};

TEST_P(Budget, SameAnswersInTheSameOrderWithinBudgetPlusOneAnswer) {
  const auto& c = GetParam();
  const auto service = make_tcp(c.service, {});
  ASSERT_NE(service, nullptr);
  const auto whole = drive(*service, c.input, c.input.size(), Output::kUnlimited);
  ASSERT_FALSE(whole.answers.empty());
  for (std::size_t budget : {1u, 7u, 100u, 4096u}) {
    for (std::size_t read : {1u, 13u, 4096u}) {
      const auto bounded = drive(*service, c.input, read, budget);
      EXPECT_EQ(bounded.answers, whole.answers) << "budget " << budget << ", reads of " << read;
      EXPECT_LE(bounded.most_held, budget + c.largest_answer) << "budget " << budget << ", reads of " << read;
    }
  }
}

std::string fib_requests() {
  std::string text;
  for (int i = 0; i < 300; ++i) text += std::to_string(i * 7 % 500) + (i % 3 ? "\n" : "\r\n");
  return text + "abc\n-1\n20000\n12";  // errors answered in line, and a last line without "\n"
}

std::string binary(std::size_t n) {
  std::string text;
  for (std::size_t i = 0; i < n; ++i) text += static_cast<char>(i * 37 % 256);
  return text;
}

INSTANTIATE_TEST_SUITE_P(
    Services, Budget,
    ::testing::Values(Case{"echo", binary(20000), 1}, Case{"upper", "hello world\nmixed CASE text\n" + binary(5000), 1},
                      Case{"fib", fib_requests(), 200}, Case{"incr", binary(4001), 2}),
    [](const auto& info) { return info.param.service; });

}  // namespace
}  // namespace sockit::serve::services
