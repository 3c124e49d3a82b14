#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "serve/refusal.hpp"

namespace sockit::serve {

/// Counts refused datagrams per reason and groups them into spells for the log. A spell of a
/// reason starts with its first refusal and ends once `quiet` passes without another: the caller
/// logs one line when count() says a spell started, and end_quiet() gives one line per spell that
/// ended, with its count. So a flood of a million refusals costs two lines per reason, not a
/// million. Not thread-safe: UdpGuard locks around it.
class RefusalTally {
 public:
  using Time = std::chrono::steady_clock::time_point;

  explicit RefusalTally(std::chrono::nanoseconds quiet = std::chrono::seconds(10)) : quiet_(quiet) {}

  /// Counts one refusal at `now`; true when it starts a spell of `reason`.
  bool count(Refusal reason, Time now);
  /// Ends the spells that have been quiet for `quiet` by `now`: a line for each, such as
  /// "udp: refused 352 datagrams in 2.1 s (reflector-port)".
  std::vector<std::string> end_quiet(Time now);
  /// Ends every open spell (when the server stops).
  std::vector<std::string> end_all();

  /// Refusals of `reason` since the start.
  std::uint64_t total(Refusal reason) const noexcept { return spells_[index(reason)].total; }

 private:
  struct Spell {
    std::uint64_t total = 0;
    std::uint64_t count = 0;  ///< in the open spell; 0: no spell open
    Time first{};
    Time last{};
  };

  static std::size_t index(Refusal reason) noexcept { return static_cast<std::size_t>(reason); }
  static std::string end(Refusal reason, Spell& spell);

  std::chrono::nanoseconds quiet_;
  std::array<Spell, kRefusalKinds> spells_{};
};

}  // namespace sockit::serve
