#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "cascade/block_picker_stripes.hpp"
#include "cascade/protocol.hpp"

namespace sockit::cascade {

/// Which block of one file to ask which peer for next: pure bookkeeping, no I/O, no clock of its
/// own (every call that depends on time is given `now`). Not thread-safe: the download loop owns
/// it.
///
/// The protocol has no have-map: a peer answers 2 for a block it lacks, and that is all one
/// learns. The picker makes a swarm's seed send each block about once and keeps every uplink
/// busy with an order all leechers can compute alike (docs/swarm.md):
///
/// - Roles, learnt from answers: a peer is unknown until it answers its first request (one probe,
///   a block of our own stripe); a peer that delivered and never lacked anything is a source (a
///   seed); one that lacked a block is a leecher, for good.
/// - Stripes (BlockStripes): we and the leechers we are connected to cut the file into one stripe
///   each, by sorted endpoint. Sources are asked for blocks of our own stripe only, front to back;
///   a leecher is asked for blocks of its stripe, front to back, and never past the first one it
///   lacks until `lack_retry` has passed (it fetches them in that order from its sources, so that
///   is where it stands). So the seed sends each stripe to its owner, and owners trade the rest.
/// - Probes: a leecher with nothing of its own stripe to give is asked, at most once per
///   `probe_interval`, for another block it has not lacked lately (ours from the back of our
///   stripe first): blocks fetched before the stripes settled, or held by someone else when a
///   seed is gone, are found that way.
/// - Starving: after no block arrived for `starve_after` (and at least 8 times the mean gap
///   between blocks), sources are asked for any missing block, so that a leecher that never
///   fetches its stripe cannot hold the others up for good.
/// - Outside end-game a block is in flight at one peer at most: every block is fetched once.
///   End-game: once every missing block is in flight somewhere, a peer with nothing else to do is
///   given a block still in flight elsewhere (up to `end_game_copies` peers per block, never twice
///   the same peer), so that one slow peer cannot hold up the end.
/// - A banned peer (it sent a bad block) is given nothing, for good.
class BlockPicker {
 public:
  using Clock = std::chrono::steady_clock;
  using TimePoint = Clock::time_point;

  struct Options {
    std::chrono::milliseconds lack_retry{100};
    std::chrono::milliseconds probe_interval{250};
    std::chrono::milliseconds starve_after{3000};
    std::chrono::milliseconds clear_for{10000};
    std::chrono::milliseconds silent_after{2000};
    std::chrono::milliseconds settle{3000};
    std::uint8_t end_game_copies = 2;
  };

  enum class Role { unknown, source, leecher };

  /// `held[i]`: block i is already held (a resumed file). `self`: our own endpoint, as the
  /// others know it (it places our stripe).
  BlockPicker(const std::vector<bool>& held, Endpoint self, Options options);
  BlockPicker(const std::vector<bool>& held, Endpoint self) : BlockPicker(held, self, Options{}) {}

  /// We learnt our endpoint anew (from the tracker).
  void set_self(Endpoint self) { stripes_.set_self(self); }
  /// A connection to `peer` is open: a leecher (or a peer not answered yet) counts as a member
  /// of the stripes until lost() or ban().
  void opened(const Endpoint& peer, TimePoint now);

  /// The next block to ask `peer` for, now counted as in flight there; nullopt when there is
  /// nothing `peer` should be asked for now.
  std::optional<std::uint64_t> pick(const Endpoint& peer, TimePoint now);

  /// `peer` delivered `index` (verified by the caller; normally a block picked for it): the block
  /// is held from now on. True when it is new; false when it was held already (the second copy
  /// of an end-game block).
  bool delivered(const Endpoint& peer, std::uint64_t index, TimePoint now);
  /// `peer` answered that it lacks `index`: the block goes back to the pool, and `peer` is not
  /// asked for it before now + lack_retry.
  void lacks(const Endpoint& peer, std::uint64_t index, TimePoint now);
  /// Everything in flight at `peer` goes back to the pool (its connection is gone), and it is no
  /// member of the stripes any more. What it lacks, and its role, are remembered.
  void lost(const Endpoint& peer, TimePoint now);
  /// `peer` sent a bad block: what it has in flight goes back, and it is never picked for again.
  void ban(const Endpoint& peer, TimePoint now);

  bool banned(const Endpoint& peer) const;
  Role role(const Endpoint& peer) const;
  const BlockStripes& stripes() const noexcept { return stripes_; }
  bool held(std::uint64_t index) const { return held_[index]; }
  std::uint64_t block_count() const noexcept { return held_.size(); }
  std::uint64_t missing() const noexcept { return missing_; }
  bool complete() const noexcept { return missing_ == 0; }
  /// Every missing block is in flight somewhere (and at least one is missing).
  bool end_game() const noexcept { return missing_ > 0 && free_.empty(); }
  /// How many peers `index` is in flight at.
  unsigned copies(std::uint64_t index) const { return copies_[index]; }
  /// How many blocks are in flight at `peer`.
  std::size_t in_flight_at(const Endpoint& peer) const;

 private:
  struct Peer {
    std::set<std::uint64_t> asked;             // blocks in flight here
    std::map<std::uint64_t, TimePoint> lacks;  // block -> when it was last lacked
    Role role = Role::unknown;
    bool open = false;
    bool banned = false;
    TimePoint next_probe{};
    TimePoint heard{};          // its last answer
    std::uint64_t reached = 0;  // where in its stripe it stood when last heard of
  };
  static constexpr std::size_t kPruneLacks = 64;   // sweep expired lacks when a peer has this many
  static constexpr std::size_t kProbeScan = 256;   // free blocks a probe looks at, at most
  static constexpr std::size_t kScan = 256;        // free blocks of our stripe a source pick looks at
  static constexpr std::size_t kClearAhead = 4;    // blocks of our stripe cleared ahead of the sources
  static constexpr std::size_t kFollowDepth = 2;   // blocks of a leecher's stripe asked of it at once
  static constexpr std::size_t kClearInFlight = 2;  // clearing probes in flight at one leecher

  static bool lacked_within(const Peer& peer, std::uint64_t index, TimePoint now, std::chrono::milliseconds span);
  static std::size_t in_range(const std::set<std::uint64_t>& blocks, BlockStripes::Range range);
  bool at_source(std::uint64_t index) const;
  bool cleared(std::uint64_t index, TimePoint now) const;
  std::optional<std::uint64_t> clearing_probe(Peer& peer, TimePoint now);
  bool starving(TimePoint now) const;
  std::optional<std::uint64_t> first_probe(const Endpoint& endpoint) const;
  std::optional<std::uint64_t> from_source(TimePoint now) const;
  std::vector<std::uint64_t> unsourced(BlockStripes::Range range, std::size_t limit) const;
  bool settling(TimePoint now) const;
  std::optional<std::uint64_t> from_leecher(const Endpoint& endpoint, Peer& peer, TimePoint now);
  std::optional<std::uint64_t> probe(const Endpoint& endpoint, Peer& peer, TimePoint now);
  std::optional<std::uint64_t> end_game_copy(Peer& peer, TimePoint now);
  std::uint64_t take(Peer& peer, std::uint64_t index);
  void give_back(Peer& peer, std::uint64_t index);
  void set_role(const Endpoint& endpoint, Peer& peer, Role role, TimePoint now);
  void update_member(const Endpoint& endpoint, const Peer& peer, TimePoint now);

  Options options_;
  std::vector<bool> held_;
  std::uint64_t missing_ = 0;
  std::vector<std::uint8_t> copies_;
  std::set<std::uint64_t> free_;    // missing blocks in flight nowhere
  std::set<std::uint64_t> flying_;  // missing blocks in flight somewhere (copies > 0)
  BlockStripes stripes_;
  std::map<Endpoint, Peer> peers_;
  std::optional<TimePoint> started_;        // the first pick
  std::optional<TimePoint> unsettled_;      // the stripes last changed
  std::optional<TimePoint> first_arrival_;  // the first and the last new block
  TimePoint last_arrival_{};
  std::uint64_t arrivals_ = 0;
};

}  // namespace sockit::cascade
