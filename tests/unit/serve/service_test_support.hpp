#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "serve/session.hpp"

namespace sockit::serve::testing {

/// A context whose clock always reads `unix_seconds` + `microseconds` past 1970-01-01 UTC.
inline SessionContext fixed_clock(std::int64_t unix_seconds, std::int64_t microseconds = 0) {
  SessionContext context;
  const auto t = std::chrono::system_clock::time_point{std::chrono::seconds{unix_seconds}} +
                 std::chrono::microseconds{microseconds};
  context.now = [t] { return t; };
  return context;
}

/// The reply bytes as a string of raw bytes, for EXPECT_EQ against literals.
inline std::string raw(std::initializer_list<unsigned char> bytes) { return std::string(bytes.begin(), bytes.end()); }

}  // namespace sockit::serve::testing
