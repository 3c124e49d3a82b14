#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "serve/source_rate.hpp"

namespace sockit::serve {

/// How many connections each source (an IPv4 address, an IPv6 /64: SourceKey) has open, for a
/// per-source limit (xinetd's per_source), in a table of a fixed size: `slots` entries of 20
/// bytes, allocated once, set-associative (SourceRateLimiter::kWays ways). A source takes a slot
/// of its set that counts nobody; when every slot of its set counts some other source (thousands
/// of sources at once: a flood), it is counted in one overflow slot shared with every such
/// source, and held to the limit together with them. So a flood can neither grow the table nor
/// free a tracked source of its count; at worst it makes its set-mates share a limit.
/// Not thread-safe: Admission locks around it.
class SourceCounts {
 public:
  /// The overflow slot's number, as acquire() returns it.
  static constexpr std::size_t kOverflow = static_cast<std::size_t>(-1);

  /// `seed` 0: a random one (sets an attacker cannot aim at).
  explicit SourceCounts(std::size_t slots = 4096, std::uint64_t seed = 0);

  /// Counts one more connection of `source` if it has fewer than `limit` open: the slot it is
  /// counted in, for release(); nullopt when it has `limit` already.
  std::optional<std::size_t> acquire(const SourceKey& source, std::size_t limit);
  /// One connection counted in `slot` (what acquire() gave) is closed.
  void release(std::size_t slot) noexcept;

  /// Connections `source` has open as its own slot counts them (0 when it has none); for tests.
  std::size_t open(const SourceKey& source) const;
  /// The table's fixed size in bytes.
  std::size_t memory_bytes() const noexcept { return slots_.capacity() * sizeof(Slot); }

 private:
  struct Slot {
    SourceKey key;
    std::uint32_t count = 0;  ///< 0: free
  };

  Slot* set_of(const SourceKey& source);

  std::uint64_t seed_;
  std::vector<Slot> slots_;
  Slot overflow_;
};

}  // namespace sockit::serve
