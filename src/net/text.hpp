#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sockit::net {

/// How much of a remote text a message repeats by default.
inline constexpr std::size_t kShownMax = 200;

/// Text that came from the network (a tracker's or a peer's error message, a bad request), made
/// safe to print or log: every byte outside printable ASCII (0x20-0x7e) becomes '?', so no
/// terminal escape, newline or carriage return gets through (no forged log lines), and at most
/// `max` bytes are kept, followed by "..." when there were more. Never fails.
std::string printable(std::string_view text, std::size_t max = kShownMax);

/// "1 block", "3 blocks": `count` and the noun, plural unless count is 1. `plural` defaults to
/// `singular` + "s".
std::string counted(std::uint64_t count, std::string_view singular, std::string_view plural = {});

}  // namespace sockit::net
