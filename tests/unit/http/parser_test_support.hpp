#pragma once

// Runs a RequestParser the way a session does (what it leaves is offered again with what comes
// next) and describes what came out, one string per request or error, so that tests compare
// whole conversations and every split of the same bytes.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "http/request_parser.hpp"
#include "test_support.hpp"

namespace sockit::http::testing {

inline std::string describe(const Request& r) {
  std::string text = r.method + " " + r.target + " HTTP/1." + std::to_string(r.minor) +
                     (r.keep_alive ? " keep-alive" : " close");
  for (const auto& f : r.fields) text += " [" + f.name + ": " + f.value + "]";
  return text;
}

/// Feeds `input` in pieces of the sizes `piece(left)` picks; the last string says whether the
/// parser was left mid-request.
inline std::vector<std::string> parse_in_pieces(std::string_view input, const std::function<std::size_t(std::size_t)>& piece,
                                                const ParserLimits& limits = {}) {
  RequestParser parser(limits);
  std::vector<std::string> seen;
  std::string held;
  std::size_t at = 0;
  while (at < input.size()) {
    const auto n = std::min(std::max<std::size_t>(piece(input.size() - at), 1), input.size() - at);
    held.append(input.substr(at, n));
    at += n;
    for (;;) {
      const auto step = parser.feed(sockit::testing::bytes_of(held));
      EXPECT_LE(step.consumed, held.size());
      if (step.kind == RequestParser::Kind::error) {
        seen.push_back("error " + std::to_string(parser.error().status));
        EXPECT_EQ(parser.feed(sockit::testing::bytes_of("GET / HTTP/1.1\r\n")).kind, RequestParser::Kind::error);
        EXPECT_FALSE(parser.mid_request());
        return seen;
      }
      held.erase(0, step.consumed);
      if (step.kind == RequestParser::Kind::need_more) {
        EXPECT_TRUE(held.empty()) << "need_more left bytes behind";
        break;
      }
      seen.push_back(describe(parser.request()));
    }
  }
  seen.push_back(parser.mid_request() ? "mid-request" : "idle");
  return seen;
}

/// What the parser makes of `input` at once, after checking that one byte at a time and random
/// splits give the same.
inline std::vector<std::string> parse(std::string_view input, const ParserLimits& limits = {}) {
  const auto whole = parse_in_pieces(input, [](std::size_t left) { return left; }, limits);
  EXPECT_EQ(parse_in_pieces(input, [](std::size_t) { return 1; }, limits), whole) << "one byte at a time";
  for (unsigned seed = 1; seed <= 5; ++seed) {
    std::mt19937 random(seed);
    const auto split = [&](std::size_t left) { return std::uniform_int_distribution<std::size_t>(1, std::min<std::size_t>(left, 64))(random); };
    EXPECT_EQ(parse_in_pieces(input, split, limits), whole) << "random splits, seed " << seed;
  }
  return whole;
}

/// The status of the error `input` ends in, or 0 when there is none.
inline int status_of(std::string_view input, const ParserLimits& limits = {}) {
  const auto seen = parse(input, limits);
  const auto& last = seen.back();
  return last.starts_with("error ") ? std::stoi(last.substr(6)) : 0;
}

}  // namespace sockit::http::testing
