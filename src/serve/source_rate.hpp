#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "net/address.hpp"

namespace sockit::serve {

/// Who a rate is counted for: an IPv4 address, or an IPv6 address's /64 (one host owns a whole
/// /64, so counting its addresses apart would give it 2^64 allowances). IPv4-mapped IPv6 counts as
/// the IPv4 address.
struct SourceKey {
  std::array<std::uint8_t, 16> bytes{};
  friend bool operator==(const SourceKey&, const SourceKey&) = default;
};
SourceKey source_key(const net::Address& source) noexcept;

/// Per-source tables of a fixed size are set-associative: a source may only take a slot of its
/// set, which this picks from the key and a secret `seed`, so an attacker cannot aim a flood of
/// sources at one set (SourceRateLimiter, SourceCounts).
std::size_t source_set(const SourceKey& source, std::uint64_t seed, std::size_t sets) noexcept;
/// A seed for source_set(): random, never 0.
std::uint64_t random_source_seed();

/// A token bucket per source in a table of fixed size: replies to one source are bounded by
/// `rate` a second with bursts of `burst`, and a source that runs its bucket dry is muted (every
/// datagram refused) for `mute`. The mute is what ends a reflection loop between two servers:
/// a loop runs as fast as the round trip allows, so once it goes over the rate it empties the
/// bucket, and the mute (longer than any round trip) drops every datagram still circling. A loop
/// slower than `rate` cannot be told from a client by its rate; it is held to that rate.
///
/// Memory: `slots` entries of sizeof(Slot) bytes (48), allocated once and never grown, whatever
/// sources come. The table is set-associative (8 ways): a new source takes a slot of its set that
/// is free or idle (its bucket would be full again and it is not muted, so forgetting it changes
/// nothing). When every slot of its set is busy, which takes thousands of sources active at once
/// (a spoofed flood), the source shares one overflow bucket with every other such source, so a
/// flood can neither grow the table nor reset a tracked source's bucket by evicting it.
/// Not thread-safe: UdpGuard locks around it.
class SourceRateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  using Time = Clock::time_point;

  struct Config {
    double rate = 1000;  ///< replies a second to one source (> 0)
    double burst = 250;  ///< replies a source may get at once (>= 1)
    std::chrono::nanoseconds mute = std::chrono::seconds(1);
    std::size_t slots = 4096;  ///< rounded up to a multiple of kWays
    std::uint64_t seed = 0;    ///< the set hash's key; 0: a random one (sets an attacker cannot aim at)
  };

  static constexpr std::size_t kWays = 8;

  explicit SourceRateLimiter(const Config& config);

  /// True when `source` may get one more reply at `now` (it takes a token); false when it is
  /// muted or has just run dry (which mutes it). `now` must not go backwards.
  bool allow(const SourceKey& source, Time now);

  /// Sources with a slot of their own that still hold state at `now` (not idle); for tests.
  std::size_t tracked(Time now) const;
  /// The table's fixed size in bytes.
  std::size_t memory_bytes() const noexcept { return slots_.capacity() * sizeof(Slot); }

 private:
  struct Slot {
    SourceKey key;
    double tokens = 0;
    std::int64_t stamp = 0;        ///< ns: when tokens was last brought up to date
    std::int64_t muted_until = std::numeric_limits<std::int64_t>::min();  ///< ns
    bool used = false;
  };

  std::int64_t ns(Time now) const noexcept;
  bool idle(const Slot& slot, std::int64_t now) const noexcept;
  bool take(Slot& slot, std::int64_t now) noexcept;

  Config config_;
  Time epoch_;
  std::vector<Slot> slots_;
  Slot overflow_;
};

}  // namespace sockit::serve
