#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <random>
#include <vector>

#include "cascade/protocol.hpp"
#include "net/result.hpp"

namespace sockit::cascade {

/// What one registry holds at most: a flood can be refused, never make room by evicting.
struct RegistryCaps {
  std::size_t swarms = 1024;      ///< cascade hashes with peers (--allow-any lets anyone make new ones)
  std::size_t peers = 1000;       ///< entries per swarm
  std::size_t peers_per_ip = 16;  ///< entries per swarm with one listening IPv4 address
};

/// Who is registered for which hash, wherever that is kept: this process's memory
/// (TrackerRegistry) or a Redis server that many trackers share (RedisRegistry). Thread-safe:
/// models call sessions from many threads.
class SwarmRegistry {
 public:
  using Clock = std::chrono::system_clock;

  virtual ~SwarmRegistry() = default;

  /// Why a subscribe did not store an entry.
  enum class Refusal { none, too_many_swarms, swarm_full, ip_full };

  /// One tracker request: a subscribe (registers or refreshes `requester`, within the caps) and
  /// then the list, or the list alone.
  struct Query {
    Digest hash{};
    Endpoint requester;
    bool subscribe = false;
    bool good = false;  ///< the entry's "good peer" flag, for a subscribe
    Clock::time_point now;
    std::chrono::seconds stale_after{30 * 60};
    std::size_t max_entries = 20;
  };
  struct Answer {
    Refusal refusal = Refusal::none;  ///< a refused subscribe lists nothing
    /// Up to max_entries entries seen within stale_after, good ones first, each group in random
    /// order, without the requester.
    std::vector<PeerEntry> peers;
  };

  /// Answers `query`; the subscribe and the list are one atomic step. An error means the
  /// registry could not be reached (Redis is down): nothing was stored.
  virtual net::Result<Answer> answer(const Query& query) = 0;
  /// True when answer() may wait on the network (bounded by its own timeout): the tracker's
  /// sessions then run on the engine's worker threads, never on an event loop.
  virtual bool waits() const noexcept = 0;
  virtual const RegistryCaps& caps() const noexcept = 0;
  /// Entries held for `hash` (stale ones included until a request sweeps them).
  virtual net::Result<std::size_t> entries(const Digest& hash) = 0;
  /// Swarms held (stale ones included until a request sweeps them).
  virtual net::Result<std::size_t> swarm_count() = 0;
};

/// The registry in this process's memory (one mutex).
class TrackerRegistry : public SwarmRegistry {
 public:
  explicit TrackerRegistry(RegistryCaps caps = {}, std::uint64_t seed = std::random_device{}());

  /// Registers or refreshes `who` for `hash` with last-seen `now`. A refresh always succeeds; a
  /// new entry only within the caps, counting entries seen within `stale_after` (older ones are
  /// deleted first).
  Refusal subscribe(const Digest& hash, Endpoint who, bool good, Clock::time_point now,
                    std::chrono::seconds stale_after);
  /// Up to `max` entries for `hash` seen within `stale_after`, good ones first, each group in
  /// random order, without `requester`. Deletes the stale entries it meets.
  std::vector<PeerEntry> list(const Digest& hash, Endpoint requester, Clock::time_point now,
                              std::chrono::seconds stale_after, std::size_t max);
  /// Entries held for `hash` (stale ones included until a request sweeps them).
  std::size_t size(const Digest& hash) const;
  /// Swarms held (each has at least one entry, stale or not).
  std::size_t swarms() const;

  net::Result<Answer> answer(const Query& query) override;
  bool waits() const noexcept override { return false; }
  const RegistryCaps& caps() const noexcept override { return caps_; }
  net::Result<std::size_t> entries(const Digest& hash) override { return size(hash); }
  net::Result<std::size_t> swarm_count() override { return swarms(); }

 private:
  struct Seen {
    Clock::time_point when;
    bool good = false;
  };
  using Swarm = std::map<Endpoint, Seen>;
  static void sweep(Swarm& swarm, Clock::time_point now, std::chrono::seconds stale_after);
  static std::size_t entries_at(const Swarm& swarm, std::uint32_t ip);
  Refusal subscribe_locked(const Digest& hash, Endpoint who, bool good, Clock::time_point now,
                           std::chrono::seconds stale_after);
  std::vector<PeerEntry> list_locked(const Digest& hash, Endpoint requester, Clock::time_point now,
                                     std::chrono::seconds stale_after, std::size_t max);

  const RegistryCaps caps_;
  mutable std::mutex mutex_;
  std::map<Digest, Swarm> peers_;
  std::mt19937_64 random_;
};

}  // namespace sockit::cascade
