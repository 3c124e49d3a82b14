#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "cascade/protocol.hpp"

namespace sockit::cascade {

/// Which block of one file to ask which peer for next: pure bookkeeping, no I/O, no clock of its
/// own (every call that depends on time is given `now`). Not thread-safe: the download loop owns
/// it.
///
/// - Blocks are picked in a random order (seeded), so that leechers of one swarm hold different
///   blocks and can trade them.
/// - Outside end-game a block is in flight at one peer at most: every block is fetched once.
/// - A peer that answered "lacks" (status 2) for a block is not asked for it again before
///   `lack_retry` has passed; other peers are.
/// - End-game: once every missing block is in flight somewhere, a peer with nothing fresh to do
///   is given a block still in flight elsewhere (up to `end_game_copies` peers per block, never
///   twice the same peer), so that one slow peer cannot hold up the end.
/// - A banned peer (it sent a bad block) is given nothing, for good.
class BlockPicker {
 public:
  using Clock = std::chrono::steady_clock;
  using TimePoint = Clock::time_point;

  struct Options {
    std::chrono::milliseconds lack_retry{1000};
    std::uint8_t end_game_copies = 2;
  };

  /// `held[i]`: block i is already held (a resumed file). The missing blocks are picked in an
  /// order shuffled with `seed`.
  BlockPicker(const std::vector<bool>& held, std::uint64_t seed, Options options);
  BlockPicker(const std::vector<bool>& held, std::uint64_t seed) : BlockPicker(held, seed, Options{}) {}

  /// The next block to ask `peer` for, now counted as in flight there; nullopt when there is
  /// nothing `peer` may be asked for (everything held, or in flight, or lacked by it, or banned).
  std::optional<std::uint64_t> pick(const Endpoint& peer, TimePoint now);

  /// `peer` delivered `index` (verified by the caller; normally a block picked for it): the block
  /// is held from now on. True when it is new; false when it was held already (the second copy
  /// of an end-game block).
  bool delivered(const Endpoint& peer, std::uint64_t index);
  /// `peer` answered that it lacks `index`: the block goes back to the pool, and `peer` is not
  /// asked for it before now + lack_retry.
  void lacks(const Endpoint& peer, std::uint64_t index, TimePoint now);
  /// Everything in flight at `peer` goes back to the pool (its connection is gone). What it
  /// lacks is remembered.
  void lost(const Endpoint& peer);
  /// `peer` sent a bad block: what it has in flight goes back, and it is never picked for again.
  void ban(const Endpoint& peer);

  bool banned(const Endpoint& peer) const;
  bool held(std::uint64_t index) const { return held_[index]; }
  std::uint64_t block_count() const noexcept { return held_.size(); }
  std::uint64_t missing() const noexcept { return missing_; }
  bool complete() const noexcept { return missing_ == 0; }
  /// Every missing block is in flight somewhere (and at least one is missing).
  bool end_game() const noexcept { return missing_ > 0 && returned_.empty() && cursor_ == order_.size(); }
  /// How many peers `index` is in flight at.
  unsigned copies(std::uint64_t index) const { return copies_[index]; }
  /// How many blocks are in flight at `peer`.
  std::size_t in_flight_at(const Endpoint& peer) const;

 private:
  struct Peer {
    std::set<std::uint64_t> asked;                  // blocks in flight here
    std::map<std::uint64_t, TimePoint> lacks;       // block -> when it may be asked again
    bool banned = false;
  };
  static constexpr std::uint64_t kNoRank = ~std::uint64_t{0};
  static constexpr std::size_t kPruneLacks = 64;  // sweep expired lacks when a peer has this many

  bool lacked(Peer& peer, std::uint64_t index, TimePoint now);
  std::uint64_t take(Peer& peer, std::uint64_t index);
  void give_back(Peer& peer, std::uint64_t index);

  Options options_;
  std::vector<bool> held_;
  std::uint64_t missing_ = 0;
  std::vector<std::uint8_t> copies_;
  // The missing blocks at the start, shuffled. Blocks before cursor_ have been picked at least
  // once; those from cursor_ on never were (copies 0; held only if delivered unasked).
  std::vector<std::uint64_t> order_;
  std::vector<std::uint64_t> rank_;  // block -> its position in order_, kNoRank if held at start
  std::size_t cursor_ = 0;
  std::set<std::uint64_t> returned_;  // ranks of picked blocks back in the pool: missing, copies 0
  std::set<std::uint64_t> flying_;    // ranks of missing blocks in flight somewhere (copies > 0)
  std::map<Endpoint, Peer> peers_;
};

}  // namespace sockit::cascade
