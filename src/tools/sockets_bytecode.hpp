#pragma once

// ss's filter expressions as inet_diag bytecode (linux/inet_diag.h, INET_DIAG_BC_*), which the
// kernel runs on each socket of a dump, and the same program run here for listings the kernel
// did not filter (/proc/net). Free of I/O.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "tools/sockets.hpp"

namespace sockit::tools {

/// An address condition as the kernel's inet_diag_hostcond: family AF_UNSPEC matches any
/// address; port -1 any port.
struct HostCondition {
  int family = 0;
  int prefix_length = 0;
  int port = -1;
  std::array<std::uint8_t, 16> address{};
};

/// One node of a parsed expression. And/Or hold two or more children, Not one.
struct FilterNode {
  enum class Kind {
    kAnd,
    kOr,
    kNot,
    kSource,             ///< src HOST, sport = :PORT
    kDestination,        ///< dst HOST, dport = :PORT
    kSourcePortAtLeast,  ///< sport >= :PORT
    kSourcePortAtMost,
    kDestinationPortAtLeast,
    kDestinationPortAtMost,
  };
  Kind kind = Kind::kAnd;
  HostCondition host;      ///< kSource, kDestination
  std::uint16_t port = 0;  ///< the port comparisons
  std::vector<FilterNode> children;
};

/// The program the kernel runs: falling off its end accepts a socket, jumping 4 bytes past it
/// rejects. Its size grows with the expression; the caller bounds it (jumps are 16-bit).
std::vector<std::byte> compile_filter(const FilterNode& expression);

/// Runs `bytecode` on a TCP or UDP entry as the kernel does (net/ipv4/inet_diag.c,
/// inet_diag_bc_run). False for an entry whose addresses do not parse, or a malformed program.
bool bytecode_accepts(std::span<const std::byte> bytecode, const SocketEntry& entry);

}  // namespace sockit::tools
